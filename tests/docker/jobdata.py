"""Data and model helpers for the Docker tests: recordIO-protobuf files written by
the SageMaker SDK's own writer, the hyperparameters the tests train with, and
readers for the NDArray model files (through `smalgo inspect`).

A module of its own, not conftest.py, so that test modules can import it by a
name no other test folder uses.
"""
import json
import pathlib
import subprocess

import numpy as np


def write_recordio(folder, x, shards):
    """x split into `shards` recordIO-protobuf files written by the SDK itself."""
    from sagemaker.amazon.common import write_numpy_to_dense_tensor

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(x, shards)):
        with open(folder / f"part-{i:02d}.rec", "wb") as f:
            write_numpy_to_dense_tensor(f, part.astype(np.float32))
    return folder


class DataSet:
    def __init__(self, root, train, test):
        self.train_x = train
        self.test_x = test
        self.train = write_recordio(root / "train", train, 6)
        self.test = write_recordio(root / "test", test, 1)


PCA_HP = {"feature_dim": 16, "num_components": 4, "mini_batch_size": 200,
          "algorithm_mode": "regular", "subtract_mean": "True"}
KMEANS_HP = {"feature_dim": 8, "k": 5, "mini_batch_size": 200, "epochs": 2,
             "init_method": "kmeans++"}


def read_model(smalgo, path):
    """An NDArray model file as {name: np.ndarray} (list files: {"0": ...})."""
    out = subprocess.run([str(smalgo), "inspect", str(path), "--all"], capture_output=True,
                         text=True, check=True)
    doc = json.loads(out.stdout)
    arrays = {}
    for i, a in enumerate(doc["arrays"]):
        name = a.get("name") or str(i)
        arrays[name] = np.array(a["values"], dtype=np.float64).reshape(a["shape"])
    return arrays


def msd(centres, x):
    """Mean squared distance from each row of x to its closest centre (float64)."""
    d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return float(d.min(axis=1).mean())
