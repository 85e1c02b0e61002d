"""smgkit: the Python helpers shared by smalgo's integration tests, Docker tests
and benchmarks.

What: one copy of the plumbing every Python driver of the smalgo binary needs:

  paths     where the smalgo binary, the build's benchmark programs and the
            ../shared fixtures folder are (SMALGO_BIN, SMALGO_SHARED_DIR)
  mlroot    an /opt/ml-style job tree: folders, hyperparameters.json,
            inputdataconfig.json, resourceconfig.json, channel folders
  payloads  training data as bytes: recordIO-protobuf written by the SageMaker
            SDK, CSV, channel files, and a fast fixed-layout dense encoder and
            decoder that is byte-identical to the SDK's writer
  ndarray   an independent numpy reader and writer of the MXNet NDArray model
            file (the format model_algo-1 is in)
  pipe      a Pipe-mode feeder: a real FIFO written from a thread
  kmeans    the squared distance to the nearest centre and the msd, in float64
  joblog    figures read back from a job's log (#quality_metric lines)
  mpi       the mpirun command line and environment the drivers use
  net       a free loopback port
  sdklocal  the SageMaker SDK's local mode without AWS credentials

How: a plain package with no install step. tests/integration/conftest.py,
tests/docker/conftest.py and benchmarks/common.py put its parent folder,
tests/kit, on sys.path. numpy is the only import at module level; the
SageMaker SDK is imported where it is used, so a benchmark that never writes
through the SDK does not need it.
"""
