#!/usr/bin/env bash
# Byte identity of trained models across a change: trains the same jobs with
# two smalgo binaries and compares every model file with cmp. For refactors
# that must not change a single bit of output.
#
#   tests/model_identity.sh OLD_SMALGO NEW_SMALGO [WORKDIR]
#
# The jobs: the demo's three (k-means and PCA on CSV, k-means in Pipe mode on
# recordIO-protobuf; tests/demo.sh), and six on 200,000 taxi-like rows
# (benchmarks/taxi_gen.py, recordIO-protobuf in 4 shards, a 20,000-row test
# channel): k-means with 3 epochs and msd/ssd test metrics, k-means on 2 MPI
# ranks, k-means++ with extra_center_factor 4, PCA regular, PCA on 2 MPI ranks
# without mean subtraction, PCA randomized. The quality metric lines of the
# logs are compared too. Exits 1 when anything differs. Needs the test venv
# (make venv) for the data generator; WORKDIR defaults to a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
old=$(realpath "$1")
new=$(realpath "$2")
work=${3:-$(mktemp -d)}
py=${SMALGO_VENV:-$here/.venv}/bin/python
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

data=$work/taxi200k
"$py" "$here/benchmarks/taxi_gen.py" --rows 200000 --format recordio --out "$data/train" \
  --shards 4 --quiet
"$py" "$here/benchmarks/taxi_gen.py" --rows 20000 --seed 7 --format recordio \
  --out "$data/test" --shards 1 --quiet

# job BINARY ROOT HYPERPARAMETERS RANKS
job() {
  local bin=$1 r=$2
  mkdir -p "$r/input/config" "$r/input/data" "$r/model" "$r/output"
  ln -sfn "$data/train" "$r/input/data/train"
  ln -sfn "$data/test" "$r/input/data/test"
  echo "$3" > "$r/input/config/hyperparameters.json"
  echo '{"train": {"ContentType": "application/x-recordio-protobuf", "TrainingInputMode": "File"},
         "test": {"ContentType": "application/x-recordio-protobuf", "TrainingInputMode": "File"}}' \
    > "$r/input/config/inputdataconfig.json"
  if [ "$4" = 1 ]; then
    "$bin" train --ml-root "$r" > "$r/log" 2>&1
  else
    mpirun -np "$4" "$bin" train --ml-root "$r" > "$r/log" 2>&1
  fi
}

jobs=(
  'kmeans|{"k":"10","feature_dim":"17","mini_batch_size":"5000","epochs":"3","eval_metrics":"[\"msd\",\"ssd\"]"}|1'
  'kmeans_np2|{"k":"10","feature_dim":"17","mini_batch_size":"5000","epochs":"2"}|2'
  'kmeans_pp|{"k":"20","feature_dim":"17","init_method":"kmeans++","extra_center_factor":"4"}|1'
  'pca|{"num_components":"5","feature_dim":"17","mini_batch_size":"1000"}|1'
  'pca_np2|{"num_components":"5","feature_dim":"17","mini_batch_size":"1000","subtract_mean":"false"}|2'
  'pca_rand|{"num_components":"4","feature_dim":"17","mini_batch_size":"2000","algorithm_mode":"randomized"}|1'
)
for side in old new; do
  bin=$old
  [ "$side" = new ] && bin=$new
  bash "$here/tests/demo.sh" "$bin" "$work/$side/demo" > "$work/$side-demo.log" 2>&1
  for j in "${jobs[@]}"; do
    IFS='|' read -r name hp ranks <<< "$j"
    job "$bin" "$work/$side/$name" "$hp" "$ranks"
  done
done

status=0
metrics() { grep -h '#quality_metric' "$1" | sed 's/^\[[^]]*\]//' || true; }
for m in $(cd "$work/old" && find . -name 'model_algo-1' | sort); do
  if cmp -s "$work/old/$m" "$work/new/$m"; then
    echo "identical: ${m#./}"
  else
    echo "DIFFERENT: ${m#./}"
    status=1
  fi
done
for j in "${jobs[@]}"; do
  name=${j%%|*}
  if [ "$(metrics "$work/old/$name/log")" != "$(metrics "$work/new/$name/log")" ]; then
    echo "DIFFERENT metrics: $name"
    status=1
  fi
done
exit $status
