#!/usr/bin/env bash
# `make demo`: make a small clustered data set, train k-means and PCA on it with
# the smalgo binary in a local /opt/ml-style folder, and say where the models
# and metrics are. Usage: tests/demo.sh SMALGO_BINARY OUTPUT_DIR
set -euo pipefail
smalgo=$(realpath "$1")
out=$2
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")

# 20,000 rows, 8 features, 5 clusters; awk's generator with a fixed seed.
make_data() {
  awk -v seed=42 'BEGIN {
    srand(seed);
    for (i = 0; i < 20000; i++) {
      c = i % 5;
      line = "";
      for (j = 0; j < 8; j++) {
        # Box-Muller normal noise around a centre that depends on the cluster.
        u = rand(); v = rand(); if (u < 1e-12) u = 1e-12;
        z = sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
        x = 10 * ((c * 7 + j * 3) % 5) + z;
        line = line (j ? "," : "") sprintf("%.6f", x);
      }
      print line;
    }
  }'
}

setup_root() {
  local root=$1 hp=$2
  mkdir -p "$root/input/config" "$root/input/data/train" "$root/model" "$root/output"
  make_data > "$root/input/data/train/sample.csv"
  echo "$hp" > "$root/input/config/hyperparameters.json"
  echo '{"train": {"ContentType": "text/csv;label_size=0", "TrainingInputMode": "File",
         "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}' \
    > "$root/input/config/inputdataconfig.json"
}

setup_root "$out/kmeans" '{"k": "5", "feature_dim": "8", "mini_batch_size": "1000"}'
setup_root "$out/pca" '{"num_components": "3", "feature_dim": "8", "mini_batch_size": "1000"}'

for algo in kmeans pca; do
  echo "== smalgo train ($algo) =="
  "$smalgo" train --ml-root "$out/$algo" | tee "$out/$algo/train.log"
done

echo
echo "== Results =="
for algo in kmeans pca; do
  echo "$algo model:   $out/$algo/model/model_algo-1"
  echo "$algo log:     $out/$algo/train.log (metric lines start with #)"
  grep -h '#quality_metric\|#throughput_metric' "$out/$algo/train.log" | sed 's/^/    /' || true
done
echo
echo "Inspect a model with: $smalgo inspect $out/pca/model/model_algo-1"
