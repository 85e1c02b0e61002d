#!/usr/bin/env bash
# Builds s3s-fs, the signature-verifying S3 server the S3 tests start on
# 127.0.0.1, into a cache that survives between runs ($SMALGO_TOOLS_CACHE,
# default ~/.cache/smalgo). Builds only when the binary is absent, so a
# machine that already has it pays nothing. Prints the binary's path; with
# `--exec COMMAND...` it runs COMMAND afterwards instead (how `make py-test`
# wraps pytest, so the stage runner still sees pytest's own arguments and output).
# s3s-fs 0.14.1 is the newest release the Debian-era rustc (1.95) builds.
set -euo pipefail

if [[ ${1:-} == --exec ]]; then
  shift
  bash "$0" > /dev/null
  exec "$@"
fi

version=0.14.1
root="${SMALGO_TOOLS_CACHE:-$HOME/.cache/smalgo}/s3s-fs-$version"
bin="$root/bin/s3s-fs"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "ensure-s3s-fs: cargo not found (install Debian's cargo or rustup)" >&2
  exit 1
fi
echo "ensure-s3s-fs: building s3s-fs $version into $root (takes minutes)" >&2
nice cargo install "s3s-fs@$version" --locked --features binary \
  --root "$root" -j2 >&2
echo "$bin"
