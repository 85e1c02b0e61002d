"""The SageMaker runtime contract of `smalgo train`, end to end on the real binary.

Each test builds a temporary /opt/ml tree (--ml-root), runs `smalgo train`, and
checks the exit status, output/failure (first line "ClientError: ..." naming the
key, the value and what is allowed) and the log. Bad inputs are those issue 2
lists: missing or malformed JSON in each config file, a hyperparameter of the
wrong type, out of range, missing or unknown, an empty hyperparameters file, a
channel declared but absent, an unreadable data file, a root that does not exist.
Tests that need a working algorithm (metric lines, SIGTERM mid-training) skip
while the algorithm is still a stub.
"""
import gzip
import json
import os
import signal
import subprocess
import time

import pytest

from smgkit.mlroot import channel

PCA_HP = {"feature_dim": "2", "mini_batch_size": "10", "num_components": "1"}
KMEANS_HP = {"k": "2", "feature_dim": "2", "mini_batch_size": "10"}


def write_csv(ml_root, rows=20, name="part-0.csv"):
    d = ml_root.channel_dir("train")
    (d / name).write_text("".join(f"{i % 7}.5,{(i * 3) % 5}.25\n" for i in range(rows)))
    return d


def failure_of(ml_root):
    assert ml_root.failure.exists(), "output/failure was not written"
    text = ml_root.failure.read_text()
    first = text.splitlines()[0]
    assert len(first) < 1024
    return first


def assert_client_error(proc, ml_root, *fragments):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    first = failure_of(ml_root)
    assert first.startswith("ClientError: "), first
    for frag in fragments:
        assert frag in first, f"{frag!r} not in {first!r}"
        assert frag in out  # printed too
    # Nothing half-written (or written at all) in model/.
    assert not any(ml_root.model.iterdir()) if ml_root.model.exists() else True


def stub_algorithm(proc):
    return "not implemented" in proc.stdout + proc.stderr


# --- the ML root ------------------------------------------------------------


def test_root_does_not_exist(run_smalgo, tmp_path):
    missing = tmp_path / "no" / "such" / "root"
    proc = run_smalgo("train", "--ml-root", missing)
    assert proc.returncode != 0
    assert f"ClientError: the ML root {missing} does not exist" in proc.stdout
    assert "SMALGO_ML_ROOT" in proc.stdout
    assert not missing.exists()  # never created


def test_root_from_environment(run_smalgo, ml_root):
    ml_root.write_hyperparameters({**KMEANS_HP, "k": "1"})
    write_csv(ml_root)
    proc = run_smalgo("train", env={"SMALGO_ML_ROOT": str(ml_root.root)})
    assert_client_error(proc, ml_root, "hyperparameter 'k' = '1' is out of range",
                        "an integer >= 2")


def test_help_and_bad_option(run_smalgo):
    proc = run_smalgo("train", "--help")
    assert proc.returncode == 0
    assert "--ml-root DIR" in proc.stdout and "--algorithm" in proc.stdout
    proc = run_smalgo("train", "--frobnicate")
    assert proc.returncode == 2
    assert "unknown or incomplete option '--frobnicate'" in proc.stderr


# --- hyperparameters.json -------------------------------------------------------


@pytest.mark.parametrize("text,fragments", [
    ("", ["hyperparameters.json is empty: expected a JSON object"]),
    ("  \n", ["hyperparameters.json is empty"]),
    ('{"k": "2", "feature_dim": ', ["hyperparameters.json is not valid JSON", "ends early"]),
    ('{"k": "2",\n "feature_dim" "2"}', ["hyperparameters.json is not valid JSON", "line 2"]),
    ('["k"]', ["hyperparameters.json must hold a JSON object", "not a array"]),
])
def test_hyperparameters_malformed(run_smalgo, ml_root, text, fragments):
    (ml_root.config / "hyperparameters.json").write_text(text)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", "kmeans")
    assert_client_error(proc, ml_root, *fragments)


def test_hyperparameters_missing(run_smalgo, ml_root):
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", "pca")
    assert_client_error(proc, ml_root, "the job's hyperparameters are missing",
                        "hyperparameters.json: No such file or directory")


@pytest.mark.parametrize("algorithm,hp,fragments", [
    ("kmeans", {**KMEANS_HP, "k": "three"}, ["'k' = 'three' is not an integer"]),
    ("kmeans", {**KMEANS_HP, "k": "1"}, ["'k' = '1' is out of range", "allowed: an integer >= 2"]),
    ("kmeans", {**KMEANS_HP, "local_lloyd_tol": "2"},
     ["'local_lloyd_tol' = '2' is out of range", "from 0 to 1"]),
    ("kmeans", {**KMEANS_HP, "init_method": "kmeans||"},
     ["'init_method' = 'kmeans||'", "one of random, kmeans++"]),
    ("kmeans", {**KMEANS_HP, "eval_metrics": '["mse"]'}, ["unknown metric 'mse'"]),
    ("kmeans", {**KMEANS_HP, "extra_center_factor": "0"},
     ["'extra_center_factor' = '0'", "auto or a positive integer"]),
    ("kmeans", {**KMEANS_HP, "tol": "0.1"}, ["unknown hyperparameter 'tol'"]),
    ("kmeans", {**KMEANS_HP, "mini_batch_siz": "10"},
     ["unknown hyperparameter 'mini_batch_siz'", "did you mean 'mini_batch_size'?"]),
    ("kmeans", {"feature_dim": "2"}, ["missing required hyperparameter 'k'"]),
    ("pca", {**PCA_HP, "subtract_mean": "yes"}, ["'subtract_mean' = 'yes' is not a boolean"]),
    ("pca", {**PCA_HP, "extra_components": "-5"}, ["-1 or a non-negative integer"]),
    ("pca", {**PCA_HP, "algorithm_mode": "fast"}, ["one of regular, randomized"]),
    ("pca", {"num_components": "1"},
     ["missing required hyperparameters 'feature_dim'", "'mini_batch_size'"]),
    ("pca", {**PCA_HP, "num_component": "1"}, ["did you mean 'num_components'?"]),
])
def test_hyperparameter_bad_values(run_smalgo, ml_root, algorithm, hp, fragments):
    ml_root.write_hyperparameters(hp)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", algorithm)
    assert_client_error(proc, ml_root, *fragments)


def test_hyperparameter_forms_accepted(run_smalgo, ml_root):
    """Double-quoted values, True/False, ignored keys: accepted and logged as resolved."""
    (ml_root.config / "hyperparameters.json").write_text(json.dumps({
        "feature_dim": '"2"', "mini_batch_size": "10", "num_components": 1,
        "subtract_mean": "True", "epochs": "1", "force_dense": "True",
        "_tuning_objective_metric": "", "sagemaker_job_name": "x"}))
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    out = proc.stdout
    line = next(l for l in out.splitlines() if "Final configuration: " in l)
    conf = json.loads(line.split("Final configuration: ", 1)[1])
    assert conf["feature_dim"] == "2"
    assert conf["num_components"] == "1"
    assert conf["algorithm_mode"] == "regular"
    assert conf["extra_components"] == "-1"
    assert conf["force_dense"] == "True"
    assert "Algorithm: pca (inferred from the hyperparameters)" in out
    if not stub_algorithm(proc):
        assert proc.returncode == 0, out + proc.stderr


# --- which algorithm ---------------------------------------------------------------


@pytest.mark.parametrize("hp,expected", [(KMEANS_HP, "kmeans"), (PCA_HP, "pca")])
def test_algorithm_inferred(run_smalgo, ml_root, hp, expected):
    ml_root.write_hyperparameters(hp)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, env={"SMALGO_ALGORITHM": ""})
    assert f"Algorithm: {expected} (inferred from the hyperparameters)" in proc.stdout


def test_algorithm_not_inferable(run_smalgo, ml_root):
    ml_root.write_hyperparameters({"feature_dim": "2"})
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, env={"SMALGO_ALGORITHM": ""})
    assert_client_error(proc, ml_root, "cannot tell which algorithm to train",
                        "neither 'k' (kmeans) nor 'num_components' (pca)",
                        "pass --algorithm", "SMALGO_ALGORITHM")


def test_algorithm_ambiguous(run_smalgo, ml_root):
    ml_root.write_hyperparameters({**PCA_HP, "k": "2"})
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, env={"SMALGO_ALGORITHM": ""})
    assert_client_error(proc, ml_root, "cannot tell which algorithm to train", "names both")


def test_algorithm_from_option_and_environment(run_smalgo, ml_root):
    # k is not a PCA hyperparameter: choosing pca explicitly makes it an unknown key.
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", "pca")
    assert "Algorithm: pca (--algorithm)" in proc.stdout
    assert_client_error(proc, ml_root, "unknown hyperparameter 'k'")
    proc = run_smalgo("train", "--ml-root", ml_root.root, env={"SMALGO_ALGORITHM": "pca"})
    assert "Algorithm: pca (SMALGO_ALGORITHM)" in proc.stdout
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", "lda")
    assert_client_error(proc, ml_root, "unknown algorithm 'lda' (from --algorithm)",
                        "choose one of: pca, kmeans")


# --- inputdataconfig.json, resourceconfig.json, channels ----------------------------


@pytest.mark.parametrize("name,text,fragments", [
    ("inputdataconfig.json", "", ["inputdataconfig.json is empty"]),
    ("inputdataconfig.json", '{"train": {', ["inputdataconfig.json is not valid JSON"]),
    ("inputdataconfig.json", '{"train": {"TrainingInputMode": "Streaming"}}',
     ["channel 'train': TrainingInputMode 'Streaming' is not supported",
      "allowed: File, FastFile, Pipe"]),
    ("inputdataconfig.json", '{"train": {"ContentType": "image/png"}}',
     ["channel 'train'", "image/png"]),
    ("resourceconfig.json", "", ["resourceconfig.json is empty"]),
    ("resourceconfig.json", '{"current_host": "algo-1", "hosts": ["algo-1"',
     ["resourceconfig.json is not valid JSON"]),
    ("resourceconfig.json", '{"current_host": "algo-9", "hosts": ["algo-1"]}',
     ["current_host 'algo-9' is not in hosts"]),
    ("resourceconfig.json", '{"hosts": ["algo-1"]}', ["current_host is missing"]),
])
def test_config_files_bad(run_smalgo, ml_root, name, text, fragments):
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root)
    (ml_root.config / name).write_text(text)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root, *fragments)


def test_channel_declared_but_absent(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root)
    ml_root.write_inputdataconfig({
        "train": {"ContentType": "text/csv;label_size=0", "TrainingInputMode": "File"},
        "test": {"ContentType": "text/csv;label_size=0", "TrainingInputMode": "File"}})
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root,
                        "channel 'test' is declared in inputdataconfig.json but its folder",
                        "does not exist")


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
@pytest.mark.parametrize("zero_byte_file", [False, True], ids=["no-file", "zero-byte-file"])
def test_empty_test_channel_fails_before_training(run_smalgo, ml_root, hp, zero_byte_file):
    """Issue 12 point 6: an empty `test` channel used to fail only after the model
    was written, leaving model_algo-1 and output/failure together."""
    ml_root.write_hyperparameters(hp)
    write_csv(ml_root)
    t = ml_root.channel_dir("test")
    if zero_byte_file:
        (t / "empty.csv").write_text("")
    csv = {"ContentType": "text/csv;label_size=0", "TrainingInputMode": "File"}
    ml_root.write_inputdataconfig({"train": csv, "test": csv})
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root, "channel 'test' is empty")
    assert not ml_root.model_file().exists()
    assert "Final configuration" in proc.stdout and "epoch 0" not in proc.stdout


# Issue 12 point 6, the rest: a `test` channel that holds no record or a bad one
# leaves no model. File mode finds record-less and malformed-first-record
# channels before training (runtime/channel_records.h); whatever is found only
# while scoring (Pipe mode, a bad record further in) is found before the model
# is written, because the drivers score the test channel first.

CSV_FILE = channel("text/csv;label_size=0")
CSV_PIPE = channel("text/csv;label_size=0", "Pipe")
PBR_PIPE = channel("application/x-recordio-protobuf", "Pipe")
PBR_FILE = channel("application/x-recordio-protobuf")


def assert_no_model_and_failure(proc, ml_root, *fragments):
    """Non-zero exit, output/failure naming each fragment, and no model file at all."""
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    first = failure_of(ml_root)
    for frag in fragments:
        assert frag in first, f"{frag!r} not in {first!r}"
    assert not ml_root.model_file().exists(), "a model was written beside " + first
    assert not (ml_root.model.exists() and any(ml_root.model.iterdir()))
    return first, out


def train_with_test(smalgo_bin, ml_root, hp, test_entry, feed=None, env=None):
    """Train on write_csv's rows with `test` declared as test_entry; feed: bytes written to
    the test FIFO (Pipe mode) by a real writer."""
    from smgkit.pipe import PipeFeeder
    ml_root.write_hyperparameters(hp)
    write_csv(ml_root, rows=200)
    ml_root.write_inputdataconfig({"train": CSV_FILE, "test": test_entry})
    feeder = PipeFeeder(ml_root.fifo("test"), feed, timeout=60) if feed is not None else None
    proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml_root.root)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, SMALGO_PIPE_TIMEOUT_MS="30000", **(env or {})))
    if feeder is not None:
        feeder.join(timeout=10)
    return proc


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
def test_pipe_test_fifo_with_no_data_leaves_no_model(smalgo_bin, ml_root, hp):
    """The writer opens the test FIFO and closes it without a byte."""
    proc = train_with_test(smalgo_bin, ml_root, hp, CSV_PIPE, feed=b"")
    _, out = assert_no_model_and_failure(proc, ml_root, "no records in channel test")
    assert "Wrote the model" not in out


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
def test_pipe_test_fifo_of_blank_lines_leaves_no_model(smalgo_bin, ml_root, hp):
    proc = train_with_test(smalgo_bin, ml_root, hp, CSV_PIPE, feed=b"\n\r\n\n")
    assert_no_model_and_failure(proc, ml_root, "no records in channel test")


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
def test_pipe_test_fifo_of_garbage_leaves_no_model(smalgo_bin, ml_root, hp):
    """Not RecordIO at all: named by channel, FIFO, record and byte."""
    proc = train_with_test(smalgo_bin, ml_root, hp, PBR_PIPE, feed=bytes(range(256)) * 4)
    assert_no_model_and_failure(proc, ml_root, "ClientError", "channel test", "test_0",
                                "record 0 at byte 0", "not RecordIO")


def test_pipe_test_fifo_bad_row_after_good_ones_leaves_no_model(smalgo_bin, ml_root):
    """Rows are scored until line 151 breaks: still no model."""
    rows = "".join(f"{i % 5}.5,{i % 3}.25\n" for i in range(150)) + "1.0,oops\n"
    proc = train_with_test(smalgo_bin, ml_root, KMEANS_HP, CSV_PIPE, feed=rows.encode())
    assert_no_model_and_failure(proc, ml_root, "channel test", "test_0", "line 151, column 2",
                                "not a number")


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
@pytest.mark.parametrize("name,data,entry,says", [
    ("blank.csv", b"\n\r\n\n\n", CSV_FILE, "holds only empty lines"),
    ("empty.csv.gz", gzip.compress(b""), CSV_FILE,
     "holds only empty lines"),
    ("zero-records.pbr.gz", gzip.compress(b""),
     PBR_FILE, "holds no RecordIO record"),
], ids=["blank-lines", "gzip-of-nothing", "recordio-of-zero-records"])
def test_file_test_channel_without_records_fails_before_training(smalgo_bin, ml_root, hp, name,
                                                                  data, entry, says):
    (ml_root.channel_dir("test") / name).write_bytes(data)
    proc = train_with_test(smalgo_bin, ml_root, hp, entry)
    _, out = assert_no_model_and_failure(proc, ml_root, "ClientError",
                                         "channel 'test' has no records", name, says)
    assert "epoch 0" not in out and "Read " not in out  # refused before training


@pytest.mark.parametrize("hp", [KMEANS_HP, PCA_HP], ids=["kmeans", "pca"])
def test_file_test_channel_with_a_header_line_fails_before_training(smalgo_bin, ml_root, hp):
    (ml_root.channel_dir("test") / "with-header.csv").write_text("\nx,y\n1,2\n")
    proc = train_with_test(smalgo_bin, ml_root, hp, CSV_FILE)
    _, out = assert_no_model_and_failure(proc, ml_root, "channel test", "with-header.csv",
                                         "line 2, column 1: not a number")
    assert "epoch 0" not in out and "Read " not in out


def test_file_test_channel_empty_file_beside_a_good_one_is_fine(smalgo_bin, ml_root):
    """A record anywhere in the channel will do; the metric is printed after the model."""
    t = ml_root.channel_dir("test")
    (t / "a-blank.csv").write_text("\n\n")
    (t / "b-rows.csv").write_text("1.5,2.25\n3.5,0.25\n")
    proc = train_with_test(smalgo_bin, ml_root, KMEANS_HP, CSV_FILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    wrote, metric = out.index("Wrote the model"), out.index("test msd <loss>=")
    assert wrote < metric < out.index("#metrics {")
    assert ml_root.model_file().exists() and not ml_root.failure.exists()


def test_failed_test_channel_keeps_the_final_checkpoint_and_a_rerun_resumes(smalgo_bin, ml_root,
                                                                             tmp_path):
    """With checkpoints on, a bad test FIFO fails the job after training with no model;
    the final checkpoint stays, so a rerun with good test data resumes (no second pass)
    and writes the model a run that never failed writes."""
    from smgkit.mlroot import MLRoot
    env = {"SMALGO_CHECKPOINT_DIR": str(tmp_path / "ckpt"),
           "SMALGO_CHECKPOINT_INTERVAL_S": "0.01"}  # else a short job writes no final one
    good = "".join(f"{i % 5}.5,{i % 3}.25\n" for i in range(50)).encode()
    proc = train_with_test(smalgo_bin, ml_root, KMEANS_HP, CSV_PIPE, feed=b"x,y\n", env=env)
    assert_no_model_and_failure(proc, ml_root, "channel test", "line 1, column 1: not a number")
    assert any((tmp_path / "ckpt").iterdir())
    ml_root.fifo("test").unlink()
    proc = train_with_test(smalgo_bin, ml_root, KMEANS_HP, CSV_PIPE, feed=good, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resuming from checkpoint: every epoch done" in proc.stdout
    assert "test msd <loss>=" in proc.stdout
    fresh = MLRoot(tmp_path / "fresh")
    proc = train_with_test(smalgo_bin, fresh, KMEANS_HP, CSV_PIPE, feed=good)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ml_root.model_file().read_bytes() == fresh.model_file().read_bytes()


def mpirun_train(smalgo_bin, ml_root, algorithm):
    from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    return subprocess.run(mpirun(2, [str(smalgo_bin), "train", "--ml-root", str(ml_root.root),
                                     "--algorithm", algorithm]),
                          capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, **MPI_ENV))


@pytest.mark.parametrize("hp,algorithm", [(KMEANS_HP, "kmeans"), (PCA_HP, "pca")],
                         ids=["kmeans", "pca"])
def test_two_ranks_bad_test_record_on_one_rank_leaves_no_model(smalgo_bin, ml_root, hp,
                                                                algorithm):
    """Two test files, one per rank; rank 1's breaks after 300 good rows, which only
    scoring finds. Rank 0 scores its file fine, but no rank writes the model."""
    ml_root.write_hyperparameters(hp)
    write_csv(ml_root, rows=400)
    t = ml_root.channel_dir("test")
    good = "".join(f"{i % 5}.5,{i % 3}.25\n" for i in range(300))
    (t / "part-0.csv").write_text(good)
    (t / "part-1.csv").write_text(good + "7.5\n")
    ml_root.write_inputdataconfig({"train": CSV_FILE, "test": CSV_FILE})
    proc = mpirun_train(smalgo_bin, ml_root, algorithm)
    first, out = assert_no_model_and_failure(proc, ml_root, "channel test", "part-1.csv",
                                             "line 301")
    assert "Wrote the model" not in out


def test_two_ranks_record_less_test_channel_fails_on_every_rank_before_training(smalgo_bin,
                                                                                ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root, rows=400)
    t = ml_root.channel_dir("test")
    (t / "part-0.csv").write_text("\n\n")
    (t / "part-1.csv").write_text("\r\n")
    ml_root.write_inputdataconfig({"train": CSV_FILE, "test": CSV_FILE})
    proc = mpirun_train(smalgo_bin, ml_root, "kmeans")
    _, out = assert_no_model_and_failure(proc, ml_root, "channel 'test' has no records",
                                         "the 2 files under", "part-0.csv")
    # Both ranks reached the same verdict from the sum over ranks, before training.
    assert out.count("channel 'test' has no records") >= 2, out
    assert "epoch 0" not in out


def test_empty_train_channel_two_ranks(smalgo_bin, ml_root):
    """Summed over ranks: empty everywhere is refused by every rank before training."""
    from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    ml_root.write_hyperparameters(KMEANS_HP)
    ml_root.channel_dir("train")
    ml_root.write_inputdataconfig({"train": {"ContentType": "text/csv", "TrainingInputMode": "File"}})
    env = dict(os.environ, **MPI_ENV)
    proc = subprocess.run(mpirun(2, [str(smalgo_bin), "train", "--ml-root", str(ml_root.root),
                                     "--algorithm", "kmeans"]),
                          capture_output=True, text=True, timeout=120, env=env)
    assert_client_error(proc, ml_root, "channel 'train' is empty")


def test_no_train_channel(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root, "no 'train' channel", "input/data/train")


def test_unreadable_data_file(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    d = write_csv(ml_root)
    os.symlink("/nonexistent/part-1.csv", d / "part-1.csv")
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root, "cannot read data file", "part-1.csv",
                        "No such file or directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_data_file_permissions(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    d = write_csv(ml_root)
    (d / "part-0.csv").chmod(0)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert_client_error(proc, ml_root, "cannot read data file", "Permission denied")


def test_local_run_infers_channels(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    assert "inputdataconfig.json does not exist: a local run" in proc.stdout
    assert "resourceconfig.json does not exist: running as a single host, algo-1" in proc.stdout
    assert "channel 'train': File mode, content type text/csv;label_size=0 (inferred)" in proc.stdout


def test_bad_pipe_timeout(run_smalgo, ml_root):
    ml_root.write_hyperparameters(KMEANS_HP)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root, env={"SMALGO_PIPE_TIMEOUT_MS": "5s"})
    assert_client_error(proc, ml_root, "SMALGO_PIPE_TIMEOUT_MS='5s'")


def test_stale_failure_removed(run_smalgo, ml_root):
    ml_root.failure.write_text("ClientError: from an earlier run\n")
    ml_root.write_hyperparameters(PCA_HP)
    write_csv(ml_root)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    if stub_algorithm(proc):
        assert "earlier run" not in ml_root.failure.read_text()
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert not ml_root.failure.exists()


# --- a whole job: metric lines, model file, SIGTERM ------------------------------------


@pytest.mark.parametrize("hp", [PCA_HP, KMEANS_HP])
def test_successful_job_lines(run_smalgo, ml_root, hp):
    ml_root.write_hyperparameters(hp)
    ml_root.write_resourceconfig("algo-1", ["algo-1"])
    ml_root.write_inputdataconfig({"train": channel("text/csv;label_size=0", "File")})
    write_csv(ml_root, rows=50)
    proc = run_smalgo("train", "--ml-root", ml_root.root)
    if stub_algorithm(proc):
        pytest.skip("the algorithm is still a stub on this branch")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert (ml_root.model / "model_algo-1").exists()
    assert not ml_root.failure.exists()
    assert "#progress_metric: host=algo-1, completed 100.0 % of epochs" in out
    assert "#throughput_metric: host=algo-1, train throughput=" in out
    metrics = [l for l in out.splitlines() if l.startswith("#metrics ")]
    assert len(metrics) == 1
    m = json.loads(metrics[0][len("#metrics "):])
    assert m["Dimensions"]["Host"] == "algo-1"
    assert m["Dimensions"]["Operation"] == "training"
    assert m["EndTime"] >= m["StartTime"]
    for stat in m["Metrics"].values():
        assert set(stat) == {"sum", "count", "min", "max"}
    assert "totaltime" in m["Metrics"]


def test_sigterm_stops_job(smalgo_bin, ml_root):
    """SIGTERM while a Pipe-mode channel waits for data: a clear failure within seconds."""
    ml_root.write_hyperparameters(PCA_HP)
    ml_root.write_inputdataconfig({"train": {
        "ContentType": "text/csv;label_size=0", "TrainingInputMode": "Pipe"}})
    fifo = ml_root.data / "train_0"
    os.mkfifo(fifo)
    env = dict(os.environ, SMALGO_PIPE_TIMEOUT_MS="600000")
    proc = subprocess.Popen([str(smalgo_bin), "train", "--ml-root", str(ml_root.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Hold the FIFO's write end open without writing: the job blocks on its first batch.
    writer = None
    deadline = time.monotonic() + 20
    while writer is None and proc.poll() is None and time.monotonic() < deadline:
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.05)
    try:
        time.sleep(1.0)
        if proc.poll() is not None or writer is None:
            if proc.poll() is None:
                proc.kill()
            out = proc.communicate()[0]
            if "not implemented" in out:
                pytest.skip("the algorithm is still a stub on this branch")
            pytest.fail(f"job ended before SIGTERM: {out}")
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("smalgo did not stop within 30 s of SIGTERM")
        elapsed = time.monotonic() - start
    finally:
        if writer is not None:
            os.close(writer)
    assert proc.returncode != 0
    assert elapsed < 15, elapsed
    first = failure_of(ml_root)
    assert "stopped by SIGTERM" in first, first
    assert not any(ml_root.model.iterdir())
