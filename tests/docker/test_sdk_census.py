"""SageMaker's "county census clustering" notebook flow with the SDK's first-party
classes in local mode: PCA on the scaled US census county data, k-means on the top
7 components, both deployed, every county labelled.

The data and SageMaker's own figures are the fixture
../shared/fixtures/sagemaker (data/census/census_scaled_float32.csv: 3218 x 34
float32, the notebooks' MinMax scaling; census_pca_model_reconstructed.json holds
the singular values SageMaker printed; testcases/kmeans_census_jasonma.json a real
run's cluster counts). Skipped when the fixture is absent.

What is checked: PCA's singular values against SageMaker's printed ones
(components 4-32; 0-3 are float32 noise in both, fixture README section 1.3), the
explained variance of the top 7 (same formula as the notebook), PCA and k-means
endpoint answers against float64 numpy on the model files, and cluster counts that
cover every county in 8 non-empty clusters. k-means starts from random centres,
on SageMaker as here, so the counts are printed (for the closing note), not
compared one for one with SageMaker's.
"""
import json

import numpy as np
import pytest

from sdkbuiltin import ROLE, model_arrays, user_setup
from smgkit import paths
from test_deploy import check_kmeans, check_pca

FIXTURE = paths.REPO.parent / "shared" / "fixtures" / "sagemaker"
CENSUS = FIXTURE / "data" / "census"
TOP_N = 7


@pytest.fixture(scope="module")
def census():
    csv = CENSUS / "census_scaled_float32.csv"
    if not csv.exists():
        pytest.skip(f"census fixture absent: {csv}")
    x = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=range(1, 35), dtype=np.float64)
    sagemaker_s = json.loads((CENSUS / "census_pca_model_reconstructed.json").read_text())[
        "sagemaker_printed"]["s"]
    case = json.loads((FIXTURE / "testcases" / "kmeans_census_jasonma.json").read_text())
    counts = next(c for c in case["cases"] if c["kind"] == "cluster_counts_all_rows")
    return x.astype(np.float32), np.array(sagemaker_s), counts["expected_counts"]


def explained_variance(s, n):
    """The notebook's: sum of the n largest s squared over the sum of all s squared
    (s ascending in SageMaker's regular-mode layout)."""
    s = np.asarray(s, dtype=np.float64)
    return float(np.square(s[len(s) - n:]).sum() / np.square(s).sum())


def test_census_pca_then_kmeans(local_s3, ecr_images, census, tmp_path):
    from sagemaker import PCA, KMeans

    x, sagemaker_s, sagemaker_counts = census
    n_components = x.shape[1] - 1
    with user_setup(local_s3, tmp_path / "aws") as (session, s3):
        pca = PCA(role=ROLE, instance_count=1, instance_type="local",
                  num_components=n_components, sagemaker_session=session)
        pca.fit(pca.record_set(x, distribution="FullyReplicated"))
        pca_arrays = model_arrays(s3, pca.model_data, tmp_path / "pca")
        s = pca_arrays["s"].reshape(-1)
        np.testing.assert_allclose(s[4:], sagemaker_s[4:], rtol=1e-3)
        ours, theirs = explained_variance(s, TOP_N), explained_variance(sagemaker_s, TOP_N)
        assert abs(ours - theirs) < 1e-4, (ours, theirs)

        predictor = pca.deploy(initial_instance_count=1, instance_type="local")
        try:
            projected = predictor.predict(x)
        finally:
            predictor.delete_endpoint()
        projections = np.array([r.label["projection"].float32_tensor.values for r in projected])
        check_pca(pca_arrays, x.astype(np.float64), projections)
        # The notebook's c_1 .. c_7: the largest component is the last one.
        top = projections[:, n_components - TOP_N:][:, ::-1].astype(np.float32)

        kmeans = KMeans(role=ROLE, instance_count=1, instance_type="local", k=8,
                        sagemaker_session=session)
        kmeans.fit(kmeans.record_set(top, distribution="FullyReplicated"))
        km_arrays = model_arrays(s3, kmeans.model_data, tmp_path / "kmeans")
        predictor = kmeans.deploy(initial_instance_count=1, instance_type="local")
        try:
            labelled = predictor.predict(top)
        finally:
            predictor.delete_endpoint()
    clusters = [r.label["closest_cluster"].float32_tensor.values[0] for r in labelled]
    check_kmeans(km_arrays, top.astype(np.float64), clusters,
                 [r.label["distance_to_cluster"].float32_tensor.values[0] for r in labelled])
    counts = np.bincount(np.array(clusters, dtype=int), minlength=8)
    assert counts.sum() == len(x) == 3218 and (counts > 0).all() and len(counts) == 8, counts
    print(f"\ncensus: explained variance of the top {TOP_N} components: smalgo {ours:.6f}, "
          f"SageMaker {theirs:.6f}")
    print(f"census: cluster sizes, largest first: smalgo {sorted(counts.tolist(), reverse=True)},"
          f" SageMaker (jasonma) {sorted(sagemaker_counts.values(), reverse=True)}")
