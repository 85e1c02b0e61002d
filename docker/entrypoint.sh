#!/bin/sh
# smalgo-entrypoint: the image's ENTRYPOINT. `smalgo launch` does the work
# (runtime/cmd_launch.c): `IMAGE train` or `IMAGE` trains, on one host by
# exec'ing `smalgo train` (smalgo is PID 1 and gets docker stop's SIGTERM), on
# several over MPI and SSH as leader or worker; any other command (`serve`,
# `inspect ...`) is exec'd as `smalgo COMMAND ...`. This script only picks the
# binary (SMALGO_BIN, for tests) and parses nothing.
set -u
SMALGO=${SMALGO_BIN:-/usr/local/bin/smalgo}
if [ $# -gt 0 ] && [ "$1" != train ]; then
    exec "$SMALGO" "$@"
fi
exec "$SMALGO" launch "$@"
