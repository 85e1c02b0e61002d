"""Batch Transform with the SDK's first-party models in local mode, data in a local S3.

The models are trained once per module by sagemaker.KMeans and sagemaker.PCA
themselves (instance_type="local", the images found by their ECR names) from a
RecordSet over an S3 prefix of recordIO-protobuf files (s3_data_type="S3Prefix":
local mode downloads the objects into the channel, no manifest involved), with
their model.tar.gz written to the local S3 server. Then
KMeansModel/PCAModel(model_data).transformer(...).transform(s3://...) runs the
SDK's local Batch Transform, which splits and batches the input on this machine
and posts each batch to the serving container:

- CSV, SplitType=Line, AssembleWith=Line, MultiRecord with MaxPayloadInMB=1 over
  an input larger than 2 MiB (at least three requests), and SingleRecord (one
  request per row; 20 rows, as the SDK spends a good part of a second per request);
- recordIO-protobuf, SplitType=RecordIO, SingleRecord: local mode strips each
  record's recordIO header and sends the bare protobuf Record (SageMaker keeps the
  framing), which smalgo accepts (io/codec_recordio.c, decode_bare). MultiRecord
  with SplitType=RecordIO cannot run in SDK v2 local mode at all: its
  MultiRecordStrategy joins the records onto a str and raises TypeError.

The .out objects are read back from S3 (the SDK's read_records for recordIO) and
matched row for row, in order, against float64 numpy on the model file.
"""
import io

import numpy as np
import pytest

from sdkbuiltin import BUCKET, ROLE, model_arrays, user_setup
from test_deploy import check_kmeans, check_pca

FEATURES = 64


@pytest.fixture(scope="module")
def sdk(local_s3, ecr_images, tmp_path_factory):
    with user_setup(local_s3, tmp_path_factory.mktemp("aws")) as setup:
        yield setup


def blobs(rng, n, centres):
    labels = rng.integers(0, len(centres), size=n)
    return (centres[labels] + rng.normal(size=(n, FEATURES))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(17)
    centres = rng.normal(scale=6.0, size=(10, FEATURES))
    return {"train": blobs(rng, 600, centres), "big": blobs(rng, 3000, centres),
            "small": blobs(rng, 20, centres)}


def put(s3, key, body):
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def recordio(x):
    from sagemaker.amazon.common import write_numpy_to_dense_tensor

    buf = io.BytesIO()
    write_numpy_to_dense_tensor(buf, x.astype(np.float32))
    return buf.getvalue()


def csv(x):
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in x).encode()


class Trained:
    def __init__(self, model, arrays):
        self.model = model
        self.arrays = arrays


@pytest.fixture(scope="module")
def trained(sdk, data, tmp_path_factory):
    """{"kmeans": Trained, "pca": Trained}: each fitted once by the first-party class."""
    from sagemaker import PCA, KMeans, KMeansModel, PCAModel
    from sagemaker.amazon.amazon_estimator import RecordSet

    session, s3 = sdk
    put(s3, "transform/train/part-0.pbr", recordio(data["train"]))
    records = RecordSet(f"s3://{BUCKET}/transform/train/", num_records=len(data["train"]),
                        feature_dim=FEATURES, s3_data_type="S3Prefix",
                        distribution="FullyReplicated")
    out = {}
    for algo, cls, model_cls, hp in (("kmeans", KMeans, KMeansModel, {"k": 10}),
                                     ("pca", PCA, PCAModel, {"num_components": 8})):
        est = cls(role=ROLE, instance_count=1, instance_type="local", sagemaker_session=session,
                  **hp)
        est.fit(records)
        assert est.model_data.startswith(f"s3://{BUCKET}/"), est.model_data
        out[algo] = Trained(model_cls(est.model_data, role=ROLE, sagemaker_session=session),
                            model_arrays(s3, est.model_data, tmp_path_factory.mktemp(algo)))
    return out


def transform(sdk, trained, name, source, content_type, split_type, strategy, accept,
              assemble_with=None):
    """Run one local Batch Transform; the .out object's bytes."""
    _, s3 = sdk
    prefix = f"transform/{name}"
    put(s3, f"{prefix}/in/part-0", source)
    transformer = trained.model.transformer(
        instance_count=1, instance_type="local", strategy=strategy, assemble_with=assemble_with,
        output_path=f"s3://{BUCKET}/{prefix}/out/", accept=accept, max_payload=1)
    transformer.transform(f"s3://{BUCKET}/{prefix}/in/", content_type=content_type,
                          split_type=split_type)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/out/").get("Contents", [])
    outs = [o["Key"] for o in listed if o["Key"].endswith("part-0.out")]
    assert len(outs) == 1, listed
    return s3.get_object(Bucket=BUCKET, Key=outs[0])["Body"].read()


def check_text_rows(algo, arrays, x, out):
    """k-means answers text/csv ("cluster,distance"), PCA application/jsonlines."""
    import json

    rows = [line for line in out.decode().split("\n") if line]
    assert len(rows) == len(x), (len(rows), len(x))
    if algo == "kmeans":
        pairs = [line.split(",") for line in rows]
        check_kmeans(arrays, x, [float(c) for c, _ in pairs], [float(d) for _, d in pairs])
    else:
        check_pca(arrays, x, [json.loads(line)["projection"] for line in rows])


ACCEPT = {"kmeans": "text/csv", "pca": "application/jsonlines"}


@pytest.mark.parametrize("algo", ["kmeans", "pca"])
def test_csv_multi_record(sdk, trained, data, algo):
    x = data["big"]
    body = csv(x)
    assert len(body) > 2 * 1024 * 1024  # MaxPayloadInMB=1: at least three requests
    out = transform(sdk, trained[algo], f"{algo}-csv-multi", body, "text/csv", "Line",
                    "MultiRecord", ACCEPT[algo], assemble_with="Line")
    # Each request's answer ends in a newline and the SDK adds one per request
    # (AssembleWith=Line): one empty line per request.
    requests = out.count(b"\n\n")
    assert 3 <= requests < 10, requests
    check_text_rows(algo, trained[algo].arrays, x.astype(np.float64), out)


@pytest.mark.parametrize("algo", ["kmeans", "pca"])
def test_csv_single_record(sdk, trained, data, algo):
    x = data["small"]
    out = transform(sdk, trained[algo], f"{algo}-csv-single", csv(x), "text/csv", "Line",
                    "SingleRecord", ACCEPT[algo], assemble_with="Line")
    assert out.count(b"\n\n") == len(x)  # one request per row
    check_text_rows(algo, trained[algo].arrays, x.astype(np.float64), out)


@pytest.mark.parametrize("algo", ["kmeans", "pca"])
def test_recordio_single_record(sdk, trained, data, algo):
    from sagemaker.amazon.common import read_records

    from test_deploy import check_records

    x = data["small"]
    out = transform(sdk, trained[algo], f"{algo}-rio-single", recordio(x),
                    "application/x-recordio-protobuf", "RecordIO", "SingleRecord",
                    "application/x-recordio-protobuf")
    records = read_records(io.BytesIO(out))
    check_records(algo, trained[algo].arrays, x.astype(np.float64), records)
