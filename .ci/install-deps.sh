#!/usr/bin/env bash
# Installs the Debian 12 packages smalgo needs: `install-deps.sh demo` what
# `make demo` needs (build and run smalgo), `install-deps.sh test` (the default)
# that plus what `make test` and `make bench` need (clang tools, Python, Docker).
#
# Idempotent and quick: it asks dpkg first and runs apt-get only for what is
# missing. As root it runs apt-get itself; otherwise through sudo when sudo is
# there; with neither it says which packages are missing and how to install them.
# The test set includes a Docker engine (Debian's docker.io) unless a docker
# command is already installed (docker-ce, say), and says when it cannot run one.
# Another package is one more word in one of the two lists below.
set -euo pipefail

what=${1:-test}

# What `make demo` needs: the compiler, CMake, the libraries smalgo links,
# cmocka (the unit tests are part of the build) and curl (the demo queries the server).
demo_packages=(
  gcc libc6-dev make cmake pkg-config git
  libopenblas-dev liblapacke-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libopenmpi-dev openmpi-bin libcjson-dev zlib1g-dev
  libmicrohttpd-dev libcmocka-dev libssl-dev
  curl ca-certificates
)
# What `make test` and `make bench` add: sanitizer and fuzzing builds, the format
# and tidy checks, the Python venv, the offline Docker base, wrk, Compose.
test_packages=(
  build-essential
  clang clang-format clang-tidy libclang-rt-14-dev
  python3 python3-venv
  debootstrap wrk docker-compose
)

case $what in
demo) packages=("${demo_packages[@]}") ;;
test) packages=("${demo_packages[@]}" "${test_packages[@]}") ;;
*)
  echo "usage: $0 [demo|test]" >&2
  exit 2
  ;;
esac
# A Docker engine for the Docker tests, unless one is already installed.
if [[ $what == test ]] && ! command -v docker > /dev/null; then
  packages+=(docker.io)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo=(sudo -n)
  elif command -v sudo > /dev/null && [[ -t 0 ]]; then
    sudo=(sudo)
  else
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: not root and no usable sudo; as root, run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Say clearly when the Docker tests will not be able to run.
if [[ $what == test ]] && ! docker info > /dev/null 2>&1; then
  if ! command -v docker > /dev/null; then
    echo "install-deps: NOTE: no Docker engine could be installed; the Docker tests will" \
      "be skipped (and fail under CI=true)" >&2
  elif [[ $(id -u) -eq 0 ]] && command -v service > /dev/null &&
    service docker start > /dev/null 2>&1 && sleep 2 && docker info > /dev/null 2>&1; then
    echo "install-deps: started the Docker engine"
  else
    echo "install-deps: NOTE: docker is installed but 'docker info' fails: start the engine" \
      "(sudo systemctl start docker) and make sure this user may use it" \
      "(sudo usermod -aG docker $(id -un), then log in again)" >&2
  fi
fi
