#!/bin/sh
# build-images.sh: what `make image` runs. Builds one image per algorithm target
# of docker/Dockerfile (every `FROM runtime AS smalgo-<name>` stage: today
# smalgo-pca and smalgo-kmeans) with the repository root as the build context,
# then prints their sizes.
#
# The base image: $SMALGO_BASE_IMAGE if set; otherwise debian:bookworm-slim when
# it is present locally or can be pulled, else a debootstrap base made offline by
# docker/make-base.sh (smalgo-base:bookworm). With SMALGO_BASE_PROVISION=1 the
# pre-provisioned bases of make-base.sh --provision are used, so the build needs
# no network at all.
#
# Environment: SMALGO_IMAGE_TAG (default latest), SMALGO_BASE_IMAGE,
# SMALGO_BASE_PROVISION, SMALGO_BUILD_JOBS (default 2), SMALGO_DOCKER_BUILD_ARGS
# (extra arguments for docker build, e.g. --no-cache), SMALGO_TAG_AS_ECR (a region,
# or several separated by commas: the images are also tagged with the names
# SageMaker's built-in kmeans and pca images have there, see tag-as-ecr.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
tag=${SMALGO_IMAGE_TAG:-latest}
jobs=${SMALGO_BUILD_JOBS:-2}
extra=${SMALGO_DOCKER_BUILD_ARGS:-}

base=${SMALGO_BASE_IMAGE:-}
if [ -z "$base" ]; then
    if docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
        docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
        base=debian:bookworm-slim
    else
        base=smalgo-base:bookworm
    fi
fi

set -- --build-arg BASE_IMAGE="$base" --build-arg JOBS="$jobs" \
    --build-arg SMALGO_BUILD_STAGE_LABEL="$tag" \
    --build-arg SMALGO_GIT_REVISION="$(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
case "$base" in
debian:*) ;;
*)
    if [ "${SMALGO_BASE_PROVISION:-0}" = 1 ]; then
        SMALGO_BASE_IMAGE=$base "$here/make-base.sh" --provision
        set -- "$@" --build-arg BUILD_BASE="$base-build" --build-arg RUNTIME_BASE="$base-runtime"
    else
        SMALGO_BASE_IMAGE=$base "$here/make-base.sh"
    fi
    ;;
esac

# The algorithm targets, read from the Dockerfile so that a new algorithm's image
# is one new stage there.
targets=$(sed -n 's/^FROM runtime AS \(smalgo-[a-z0-9_-]*\).*/\1/p' "$here/Dockerfile")
[ -n "$targets" ] || { echo "build-images: no 'FROM runtime AS smalgo-*' stage in Dockerfile" >&2; exit 1; }

start=$(date +%s)
for target in $targets; do
    echo "build-images: $target:$tag (base $base)" >&2
    # shellcheck disable=SC2086 # $extra is a list of options
    DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -f "$here/Dockerfile" \
        --target "$target" -t "$target:$tag" "$@" $extra "$repo" >&2
done
echo "build-images: built in $(($(date +%s) - start)) s" >&2
# The build stage's image is left untagged (dangling, ~650 MB): remove ours, found
# by the label the Dockerfile gives it with this tag, and nobody else's.
docker image prune -f --filter "label=org.smalgo.build-stage=$tag" >/dev/null || true
for target in $targets; do
    docker image inspect -f "$target:$tag {{.Size}}" "$target:$tag" |
        awk '{printf "%s %.1f MB\n", $1, $2 / 1e6}'
done
if [ -n "${SMALGO_TAG_AS_ECR:-}" ]; then
    # shellcheck disable=SC2046 # the comma-separated regions become arguments
    SMALGO_IMAGE_TAG=$tag "$here/tag-as-ecr.sh" $(echo "$SMALGO_TAG_AS_ECR" | tr ',' ' ')
fi
