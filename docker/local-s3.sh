#!/bin/sh
# local-s3.sh: a local S3 (and STS) server for the SageMaker Python SDK's local
# mode, reachable from this machine and from the SDK's containers; nothing leaves
# the machine.
#
# Why one address for both: the SDK uploads record sets and models from this
# machine, and passes the very endpoint it used (AWS_ENDPOINT_URL_S3) to the
# training container, which streams the record set's objects itself. 127.0.0.1
# inside a container is the container, so the endpoint must be an address both
# sides reach: the server's own address on the `sagemaker-local` network (the
# network every local-mode container joins; on Linux this machine has a leg on it).
# The server also listens on a free port of 127.0.0.1, for tools on this machine.
#
# Usage: docker/local-s3.sh start   build the image if missing, create the
#                                   sagemaker-local network if missing, start the
#                                   server, print `export ...` lines
#        docker/local-s3.sh env     print them again for the running server
#        docker/local-s3.sh stop    remove the server's container (data goes with it)
#        docker/local-s3.sh build   (re)build the image (docker/local-s3.Dockerfile)
# Typical: eval "$(docker/local-s3.sh start)"
#
# Environment: SMALGO_S3_CONTAINER (container name, default smalgo-local-s3),
# SMALGO_S3_ALIAS (its name on the network, default smalgo-s3), SMALGO_S3_NETWORK
# (default sagemaker-local), SMALGO_S3_IMAGE (default smalgo-local-s3:$SMALGO_IMAGE_TAG,
# tag default latest), SMALGO_BASE_IMAGE (as for build-images.sh), SMALGO_PYTHON
# (the Python whose pip downloads the server's wheels; default the venv's, as for
# tag-as-ecr.sh), AWS_DEFAULT_REGION (printed back, default us-west-2).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
image=${SMALGO_S3_IMAGE:-smalgo-local-s3:${SMALGO_IMAGE_TAG:-latest}}
name=${SMALGO_S3_CONTAINER:-smalgo-local-s3}
alias=${SMALGO_S3_ALIAS:-smalgo-s3}
network=${SMALGO_S3_NETWORK:-sagemaker-local}
region=${AWS_DEFAULT_REGION:-us-west-2}
python=${SMALGO_PYTHON:-}
if [ -z "$python" ]; then
    venv=${SMALGO_VENV:-$repo/.venv}
    if [ -x "$venv/bin/python" ]; then python=$venv/bin/python; else python=python3; fi
fi

log() { echo "local-s3: $*" >&2; }

base_image() {
    if [ -n "${SMALGO_BASE_IMAGE:-}" ]; then
        echo "$SMALGO_BASE_IMAGE"
    elif docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
        docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
        echo debian:bookworm-slim
    else
        SMALGO_BASE_IMAGE=smalgo-base:bookworm "$here/make-base.sh"
        echo smalgo-base:bookworm
    fi
}

# The wheels are fetched here, by pip on this machine, for the image's Python
# version (asked of the image's first stage), and installed there with no index.
build() {
    base=$(base_image)
    ctx=$(mktemp -d)
    trap 'rm -rf "$ctx"' EXIT
    cp "$here/local-s3.Dockerfile" "$ctx/Dockerfile"
    cp "$here/local-s3-requirements.txt" "$ctx/requirements.txt"
    mkdir "$ctx/wheels"
    log "building $image (base $base)"
    stage=$(DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -q --target python \
        --build-arg BASE_IMAGE="$base" "$ctx")
    pyver=$(docker run --rm --entrypoint python3 "$stage" -c \
        'import sys; print("%d.%d" % sys.version_info[:2])')
    "$python" -m pip download -q -d "$ctx/wheels" --only-binary=:all: \
        --python-version "$pyver" -r "$ctx/requirements.txt" >&2
    DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -q --build-arg BASE_IMAGE="$base" \
        --build-arg SMALGO_BUILD_STAGE_LABEL="$image" -t "$image" "$ctx" >/dev/null
    # The install stage (the wheels, ~400 MB) is left dangling: remove ours only.
    docker image prune -f --filter "label=org.smalgo.build-stage=$image" >/dev/null || true
    rm -rf "$ctx"
    trap - EXIT
}

ip_address() {
    docker inspect -f "{{with index .NetworkSettings.Networks \"$network\"}}{{.IPAddress}}{{end}}" \
        "$name" 2>/dev/null
}

print_env() {
    ip=$(ip_address)
    [ -n "$ip" ] || { log "container $name is not running on network $network; run: $0 start"; exit 1; }
    port=$(docker port "$name" 5000/tcp | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1)
    echo "export AWS_ENDPOINT_URL=http://$ip:5000"
    echo "export AWS_ACCESS_KEY_ID=smalgo-local AWS_SECRET_ACCESS_KEY=smalgo-local-secret"
    echo "export AWS_DEFAULT_REGION=$region"
    echo "# containers on $network also reach it as http://$alias:5000;" \
        "this machine also as http://127.0.0.1:$port"
}

# Waits (bounded) until the server answers on its network address.
wait_ready() {
    url="http://$(ip_address):5000/moto-api/"
    "$python" - "$url" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).read()
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"local-s3: the server at {sys.argv[1]} did not answer in 30 s: {e}")
        time.sleep(0.3)
EOF
}

start() {
    docker image inspect "$image" >/dev/null 2>&1 || build
    docker network inspect "$network" >/dev/null 2>&1 ||
        docker network create "$network" >/dev/null
    if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
        log "$name already running"
    else
        docker rm -f "$name" >/dev/null 2>&1 || true
        docker run -d --name "$name" --network "$network" --network-alias "$alias" \
            -p 127.0.0.1::5000 "$image" >/dev/null
    fi
    wait_ready
    print_env
}

case "${1:-}" in
start) start ;;
env) print_env ;;
stop) docker rm -f "$name" >/dev/null 2>&1 || true ;;
build) build ;;
*)
    sed -n '2,27p' "$0" >&2
    exit 2
    ;;
esac
