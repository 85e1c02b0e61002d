"""`make demo`'s narrated run (tests/demo.sh): the attempts collapsed into one
line, the models shown, the PCA explained-variance ratio right against numpy in
float64, and the served prediction answering every row it was sent."""
import json
import re
import subprocess

import numpy as np
from smgkit import paths


def test_demo_narration(smalgo_bin, tmp_path):
    out_dir = tmp_path / "demo"
    done = subprocess.run(["bash", str(paths.REPO / "tests" / "demo.sh"), str(smalgo_bin),
                           str(out_dir)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert "local kmeans attempt #" not in text
    assert len(re.findall(r"local kmeans attempts: 10 \(best mean square distance", text)) == 1
    assert len(re.findall(r"^    centre \d:( +-?\d+\.\d\d){8}$", text, re.M)) == 5
    assert "train msd:" in text and "sample mean square distance:" in text
    assert "byte-identical" in text

    # Explained-variance ratio, largest first, against numpy's SVD of the centred rows.
    printed = [float(x) for x in re.search(r"explained-variance ratio, largest first:"
                                           r"((?: [0-9.]+){3})", text).group(1).split()]
    x = np.loadtxt(out_dir / "kmeans/input/data/train/sample.csv", delimiter=",")
    x = x - x.mean(axis=0)
    s = np.linalg.svd(x, compute_uv=False)
    expected = (s**2 / (s**2).sum())[:3]
    np.testing.assert_allclose(printed, expected, atol=1.5e-3)

    # The request was cut to the model's feature count and got one answer per row.
    request = (out_dir / "request.csv").read_text().splitlines()
    assert len(request) == 2 and all(len(r.split(",")) == 8 for r in request)
    answer = json.loads(re.search(r"-> (\{.*\})$", text, re.M).group(1))
    assert len(answer["predictions"]) == 2
