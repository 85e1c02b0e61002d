"""An /opt/ml-style job tree, laid out the way SageMaker lays it out for a
training container.

What: the folders input/config, input/data/<channel>, model and output/data;
hyperparameters.json (every value a string, as SageMaker writes them);
inputdataconfig.json (one entry per channel: ContentType, TrainingInputMode,
S3DistributionType, RecordWrapperType); resourceconfig.json (current_host,
hosts, network_interface_name, and whatever else a caller adds).

Why one place: the integration tests, the Docker harness (one tree per host)
and the benchmarks all build these trees; the file names and the spelling of
the keys are part of the contract smalgo reads, so they are written once.
"""
import json
import pathlib

RECORDIO = "application/x-recordio-protobuf"
CSV = "text/csv"


def channel(content_type=None, mode="File", distribution="FullyReplicated", wrapper="None"):
    """One channel's inputdataconfig.json entry; no ContentType when None."""
    entry = {"TrainingInputMode": mode, "S3DistributionType": distribution,
             "RecordWrapperType": wrapper}
    if content_type:
        entry = {"ContentType": content_type, **entry}
    return entry


class MLRoot:
    """A job tree at root (made on construction): config files, channels, and the
    job's outputs."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        for sub in ("input/config", "input/data", "model", "output/data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def config(self):
        return self.root / "input" / "config"

    @property
    def data(self):
        return self.root / "input" / "data"

    @property
    def model(self):
        return self.root / "model"

    @property
    def failure(self):
        return self.root / "output" / "failure"

    def model_file(self, host="algo-1"):
        return self.model / f"model_{host}"

    def fifo(self, channel_name, epoch=0):
        """Where Pipe mode's FIFO for channel_name and epoch lives."""
        return self.data / f"{channel_name}_{epoch}"

    def write_hyperparameters(self, hp):
        (self.config / "hyperparameters.json").write_text(
            json.dumps({str(k): str(v) for k, v in hp.items()}))

    def write_inputdataconfig(self, channels):
        (self.config / "inputdataconfig.json").write_text(json.dumps(channels))

    def write_resourceconfig(self, current_host="algo-1", hosts=("algo-1",), interface="eth0",
                             **extra):
        (self.config / "resourceconfig.json").write_text(json.dumps(
            {"current_host": current_host, "hosts": list(hosts), **extra,
             "network_interface_name": interface}))

    def channel_dir(self, name):
        d = self.data / name
        d.mkdir(parents=True, exist_ok=True)
        return d


def setup_job(ml_root, hp, content_type=RECORDIO, mode="File", test=False):
    """Hyperparameters, a `train` channel (and a `test` one if asked) of
    content_type in mode, and one host algo-1."""
    ml_root.write_hyperparameters(hp)
    channels = {"train": channel(content_type, mode)}
    if test:
        channels["test"] = dict(channels["train"])
    ml_root.write_inputdataconfig(channels)
    ml_root.write_resourceconfig()
