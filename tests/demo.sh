#!/usr/bin/env bash
# `make demo`: make a small clustered data set; train k-means and PCA on it with
# the smalgo binary in local /opt/ml-style folders (File mode, CSV), train k-means
# again in Pipe mode on recordIO-protobuf, serve the k-means model and query it,
# and say where the models and metrics are. Usage: tests/demo.sh SMALGO_BINARY OUTPUT_DIR
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
  echo "== smalgo train ($algo, File mode, CSV) =="
  "$smalgo" train --ml-root "$out/$algo" | tee "$out/$algo/train.log"
done

# The same k-means job in Pipe mode on recordIO-protobuf: `smalgo convert` writes
# the data as the SageMaker SDK would, and `smalgo pipe` plays SageMaker's part,
# streaming it into the train_0 FIFO without the job ever seeing a file.
pipe_root="$out/kmeans-pipe"
mkdir -p "$pipe_root/input/config" "$pipe_root/input/data" "$pipe_root/model" "$pipe_root/output"
"$smalgo" convert --input "$out/kmeans/input/data/train/sample.csv" --output "$out/recordio" \
  --shards 4 > /dev/null
cp "$out/kmeans/input/config/hyperparameters.json" "$pipe_root/input/config/"
echo '{"train": {"ContentType": "application/x-recordio-protobuf", "TrainingInputMode": "Pipe",
       "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}' \
  > "$pipe_root/input/config/inputdataconfig.json"
echo "== smalgo train (kmeans, Pipe mode, recordIO-protobuf fed by smalgo pipe) =="
"$smalgo" pipe --dir "$pipe_root/input/data" --channel train="$out/recordio" --epochs 1 --quiet &
agent=$!
"$smalgo" train --ml-root "$pipe_root" | tee "$pipe_root/train.log"
wait "$agent"

# Serve the k-means model and ask it about two rows, as a SageMaker endpoint would answer.
port=18080
"$smalgo" serve --model-dir "$out/kmeans/model" --port "$port" --bind 127.0.0.1 \
  > "$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/ping" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "== POST /invocations (text/csv -> application/json) =="
head -2 "$out/kmeans/input/data/train/sample.csv" |
  curl -s "http://127.0.0.1:$port/invocations" -H 'Content-Type: text/csv' --data-binary @-
echo
kill "$server"
wait "$server" 2> /dev/null || true
trap - EXIT

echo
echo "== Results =="
for algo in kmeans pca kmeans-pipe; do
  echo "$algo model:   $out/$algo/model/model_algo-1"
  echo "$algo log:     $out/$algo/train.log (metric lines start with #)"
  grep -h '#quality_metric\|#throughput_metric' "$out/$algo/train.log" | sed 's/^/    /' || true
done
echo
echo "Inspect a model with: $smalgo inspect $out/pca/model/model_algo-1"
