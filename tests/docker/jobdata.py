"""Data and model helpers for the Docker tests: the data sets (recordIO-protobuf
files written by the SageMaker SDK's own writer), the hyperparameters the tests
train with, and the model reader and msd they judge models with (both from the
kit, tests/kit/smgkit).

A module of its own, not conftest.py, so that test modules can import it by a
name no other test folder uses.
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "kit"))
from smgkit import kmeans, ndarray  # noqa: E402
from smgkit.payloads import write_parts  # noqa: E402


def write_recordio(folder, x, shards):
    """x split into `shards` recordIO-protobuf files part-NN.rec written by the SDK."""
    write_parts(folder, x.astype(np.float32), shards, ext="rec")
    return pathlib.Path(folder)


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


def read_model(path):
    """An NDArray model file as {name: float64 array} (list files: {"0": ...}),
    read by the kit's independent numpy reader."""
    return ndarray.read_named(path, dtype=np.float64)


def msd(centres, x):
    """Mean squared distance from each row of x to its closest centre (float64)."""
    return kmeans.msd(x, centres)
