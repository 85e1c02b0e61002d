#!/bin/sh
# tag-as-ecr.sh: give the smalgo images the names SageMaker's built-in images have
# in an AWS region, so that the SageMaker Python SDK's own classes (sagemaker.KMeans,
# sagemaker.PCA, KMeansModel, PCAModel) run them in local mode with no image_uri.
#
# Why: those classes ask sagemaker.image_uris.retrieve("kmeans", region) for their
# image (174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1 in us-west-2), and
# local mode runs that name when Docker has it, without logging in to ECR. The
# names come from the installed SDK itself, never from a table kept here.
#
# Usage: docker/tag-as-ecr.sh REGION [REGION ...]
#   (build-images.sh runs it when SMALGO_TAG_AS_ECR=REGION[,REGION...] is set)
# Environment: SMALGO_IMAGE_TAG (the smalgo images' tag, default latest),
# SMALGO_PYTHON (a Python with the sagemaker package; default the one in
# $SMALGO_VENV or in the repository's .venv, as the Makefile's, else python3).
# Prints one "ECR-NAME <- smalgo-ALGO:TAG" line per image.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
tag=${SMALGO_IMAGE_TAG:-latest}
python=${SMALGO_PYTHON:-}
if [ -z "$python" ]; then
    venv=${SMALGO_VENV:-$repo/.venv}
    if [ -x "$venv/bin/python" ]; then python=$venv/bin/python; else python=python3; fi
fi
[ $# -gt 0 ] || { echo "usage: tag-as-ecr.sh REGION [REGION ...]" >&2; exit 2; }

for region in "$@"; do
    for algo in pca kmeans; do
        local_name=smalgo-$algo:$tag
        docker image inspect "$local_name" >/dev/null 2>&1 || {
            echo "tag-as-ecr: $local_name does not exist; build it first (make image)" >&2
            exit 1
        }
        ecr=$(SAGEMAKER_SUPPRESS_V2_WARNING=1 "$python" -c '
import logging, sys
logging.disable(logging.CRITICAL)
from sagemaker import image_uris
print(image_uris.retrieve(sys.argv[1], sys.argv[2]))' "$algo" "$region" 2>/dev/null) || {
            echo "tag-as-ecr: cannot compute the image name of $algo in $region with $python:" \
                "it needs the SageMaker Python SDK v2 (make venv, or SMALGO_PYTHON=...)" \
                "and a region the SDK knows" >&2
            exit 1
        }
        docker tag "$local_name" "$ecr"
        echo "$ecr <- $local_name"
    done
done
