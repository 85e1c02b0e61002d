#!/usr/bin/env bash
# `make demo`: make a small clustered data set; train k-means and PCA on it with
# the smalgo binary in local /opt/ml-style folders (File mode, CSV), train k-means
# again in Pipe mode on recordIO-protobuf, serve the k-means model and query it.
# It narrates as it goes: what was trained on what, the key log lines (the full
# logs stay in OUTPUT_DIR/*/train.log), what the models hold (through `smalgo
# inspect`) and what the metric lines mean. Needs only smalgo, awk, sed and curl.
# Usage: tests/demo.sh SMALGO_BINARY OUTPUT_DIR
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

# The log lines worth reading, without the "[date time INFO thread] " prefix, the
# #metrics JSON, or the ten "local kmeans attempt" lines (collapsed into one).
show_log() {
  sed 's/^\[[^]]*\] //' "$1" | awk '
    /^#metrics / || /does not exist: running as a single host/ || /was set to .auto./ { next }
    /^Test data is not provided/ || /^Wrote the model/ || /^#progress_metric/ { next }
    /^local kmeans attempt #/ {
      n++; sub(/.*Current mean square distance /, ""); last = $0; next
    }
    n { printf "    local kmeans attempts: %d (best mean square distance %s)\n", n, last; n = 0 }
    { print "    " $0 }'
}

# The float values of the first "values": [...] in `smalgo inspect --all` output, one row per line.
inspect_rows() {
  "$smalgo" inspect --all "$1" | sed -n 's/.*"values": \[\(.*\)\]}.*/\1/p' | head -1 |
    sed 's/^\[//; s/\]$//; s/\], *\[/\n/g' | tr -d ' '
}
inspect_named() { # FILE NAME: the values of the array called NAME, comma-separated
  "$smalgo" inspect --all "$1" | sed -n "s/.*\"name\": \"$2\".*\"values\": \[\(.*\)\]}.*/\1/p" |
    tr -d '[] '
}

# train ROOT: smalgo train with its log in ROOT/train.log, shown in full on failure.
train() {
  "$smalgo" train --ml-root "$1" > "$1/train.log" 2>&1 || {
    cat "$1/train.log"
    echo "demo: smalgo train --ml-root $1 failed" >&2
    exit 1
  }
}

data="$out/kmeans/input/data/train/sample.csv"
echo "Data: $data"
echo "  20,000 rows x 8 features, made by awk with a fixed seed: 5 clusters, each row a"
echo "  cluster centre (every coordinate one of 0, 10, 20, 30, 40) plus N(0, 1) noise."
echo

echo "== 1. k-means, File mode, CSV: k=5 on those rows (smalgo train --ml-root $out/kmeans) =="
train "$out/kmeans"
show_log "$out/kmeans/train.log"
echo "  The model (smalgo inspect): 5 centres of 8 features, one per line:"
inspect_rows "$out/kmeans/model/model_algo-1" | awk -F, '{
  printf "    centre %d:", NR - 1; for (i = 1; i <= NF; i++) printf " %6.2f", $i; print "" }'
echo "  What the metric lines say:"
echo "    train msd: SageMaker's figure, the weighted mean squared distance of the 50"
echo "      intermediate centres (k x extra_center_factor) to the 5 final ones in the shrink"
echo "      step; it measures the shrink, not how far the data rows lie from the centres."
echo "    sample mean square distance: the mean squared distance of the training rows"
echo "      themselves to their nearest centre (here about 8: 8 features of unit-variance"
echo "      noise); the figure to compare with scikit-learn's inertia / rows."
echo "    train throughput: rows read per second."
echo

echo "== 2. PCA, File mode, CSV: 3 components of the same rows (smalgo train --ml-root $out/pca) =="
train "$out/pca"
show_log "$out/pca/train.log"
# Explained-variance ratio: each component's s^2 over the total sum of squares of
# the centred data (computed here from the CSV, since the model keeps only 3 of 8).
s=$(inspect_named "$out/pca/model/model_algo-1" s)
total=$(awk -F, '{ for (j = 1; j <= NF; j++) { m[j] += $j; q[j] += $j * $j } n++ }
  END { for (j in m) t += q[j] - m[j] * m[j] / n; printf "%.9g", t }' "$data")
echo "  The model (smalgo inspect): s (singular values, ascending), v (8 x 3), mean (8)."
echo "$s" | awk -F, -v t="$total" '{
  printf "  explained-variance ratio, largest first:"; sum = 0
  for (i = NF; i >= 1; i--) { r = $i * $i / t; sum += r; printf " %.3f", r }
  printf " (together %.3f of the variance)\n", sum }'
echo "    (each component's s^2 over the total variance of the centred rows, from the CSV)"
echo

# The same k-means job in Pipe mode on recordIO-protobuf: `smalgo convert` writes
# the data as the SageMaker SDK would, and `smalgo pipe` plays SageMaker's part,
# streaming it into the train_0 FIFO without the job ever seeing a file.
pipe_root="$out/kmeans-pipe"
mkdir -p "$pipe_root/input/config" "$pipe_root/input/data" "$pipe_root/model" "$pipe_root/output"
"$smalgo" convert --input "$data" --output "$out/recordio" --shards 4 > /dev/null 2>&1
cp "$out/kmeans/input/config/hyperparameters.json" "$pipe_root/input/config/"
echo '{"train": {"ContentType": "application/x-recordio-protobuf", "TrainingInputMode": "Pipe",
       "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}' \
  > "$pipe_root/input/config/inputdataconfig.json"
echo "== 3. k-means again, Pipe mode: the rows as recordIO-protobuf (smalgo convert, 4 shards)"
echo "      streamed into the job's train_0 FIFO by smalgo pipe, as SageMaker does =="
"$smalgo" pipe --dir "$pipe_root/input/data" --channel train="$out/recordio" --epochs 1 --quiet &
agent=$!
train "$pipe_root"
wait "$agent"
grep -h '#quality_metric\|streamed' "$pipe_root/train.log" | sed 's/^\[[^]]*\] /    /'
if cmp -s "$pipe_root/model/model_algo-1" "$out/kmeans/model/model_algo-1"; then
  echo "  The model file is byte-identical to the File-mode one."
else
  echo "  The model file differs from the File-mode one (see both with smalgo inspect)."
fi
echo

# Serve the k-means model and ask it about two rows, as a SageMaker endpoint would answer.
# The rows are cut to the model's own feature count, read from the model.
dim=$("$smalgo" inspect "$out/kmeans/model/model_algo-1" |
  sed -n 's/.*"feature_dim": \([0-9]*\).*/\1/p')
port=$((18080 + RANDOM % 1000)) # another demo or test may be serving on a fixed one
"$smalgo" serve --model-dir "$out/kmeans/model" --port "$port" --bind 127.0.0.1 \
  > "$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/ping" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "== 4. smalgo serve: the k-means model as a SageMaker endpoint; two rows of $dim features =="
echo "      POST to http://127.0.0.1:$port/invocations (text/csv in, JSON out):"
head -2 "$data" | cut -d, -f1-"$dim" | tee "$out/request.csv" | sed 's/^/    /'
curl -s "http://127.0.0.1:$port/invocations" -H 'Content-Type: text/csv' \
  --data-binary @"$out/request.csv" | sed 's/^/    -> /'
echo
echo "    closest_cluster is the row of the centre above; distance_to_cluster its distance."
kill "$server"
wait "$server" 2> /dev/null || true
trap - EXIT

echo
echo "Models: $out/{kmeans,pca,kmeans-pipe}/model/model_algo-1; full logs: $out/*/train.log"
echo "Look at one: $smalgo inspect $out/pca/model/model_algo-1"
