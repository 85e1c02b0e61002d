# A local S3 (and STS) server for SageMaker SDK local mode: moto's server mode
# (PyPI moto, S3 and STS, pinned) on the same Debian 12 base as the smalgo images.
#
# Why: the SDK's first-party classes upload record sets and models to S3, and the
# training container streams the record set's objects back from S3. With this
# server on the `sagemaker-local` network, every one of those requests stays on
# this machine. moto also answers STS GetCallerIdentity, which the SDK's
# default_bucket() asks for, so unchanged SDK code finds its default bucket here.
#
# Built and started by docker/local-s3.sh (see docker/README.md). The build
# context is a folder holding this file's requirements.txt
# (docker/local-s3-requirements.txt) and wheels/, the wheels `pip download` fetched
# for it on the host: the image installs them with no index, so the build needs
# no network of its own for Python packages (only apt, when the base lacks python3).
# The base is a build argument like the smalgo images' (docker/make-base.sh makes
# smalgo-base:bookworm when debian:bookworm-slim cannot be pulled).

ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE} AS python
RUN set -eu; missing=; \
    for p in python3 python3-venv; do \
      dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' \
        || missing="$missing $p"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update -qq; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi
FROM python AS install
ARG SMALGO_BUILD_STAGE_LABEL=smalgo-local-s3
LABEL org.smalgo.build-stage=${SMALGO_BUILD_STAGE_LABEL}
COPY requirements.txt /tmp/moto/requirements.txt
COPY wheels /tmp/moto/wheels
RUN set -eu; python3 -m venv /opt/moto; \
    /opt/moto/bin/pip install -q --no-cache-dir --no-index --find-links /tmp/moto/wheels \
      -r /tmp/moto/requirements.txt; \
    /opt/moto/bin/moto_server --help >/dev/null

# The wheels stay behind in the install stage.
FROM python
COPY --from=install /opt/moto /opt/moto
EXPOSE 5000
# Anything that can sign a request is accepted (moto does not check secrets);
# the data lives in the container's memory and goes with it.
ENTRYPOINT ["/opt/moto/bin/moto_server", "--host", "0.0.0.0", "--port", "5000"]
