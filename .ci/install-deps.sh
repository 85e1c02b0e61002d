#!/usr/bin/env bash
# Installs the Debian 12 packages smalgo needs to build, test and benchmark.
# Idempotent and quick: it asks dpkg first and runs apt-get only for what is
# missing. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libopenblas-dev liblapacke-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libopenmpi-dev openmpi-bin libcjson-dev zlib1g-dev
  libmicrohttpd-dev libcmocka-dev libssl-dev
  clang clang-format clang-tidy libclang-rt-14-dev
  python3 python3-venv
  debootstrap wrk curl docker-compose
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
