#!/usr/bin/env python3
"""sdk-local-check.py: before running the SageMaker SDK's built-in KMeans/PCA in
local mode on smalgo, check the two things the SDK's own errors do not explain,
and say what to do about each.

1. The images: sagemaker.KMeans and sagemaker.PCA run the image that
   sagemaker.image_uris.retrieve("kmeans"/"pca", region) names. If Docker has no
   image by that name, local mode tries to log in to Amazon ECR and pull Amazon's
   own image instead (an ECR or credentials error, or, with an account, AWS's
   image rather than smalgo).
2. The S3 endpoint: the SDK passes the endpoint it uploads through
   (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL) unchanged to the training
   container, which reads the record set from S3 itself. It must be reachable
   from a container on the `sagemaker-local` network, not only from this machine:
   127.0.0.1 inside a container is the container.

Usage: docker/sdk-local-check.py REGION   (run with a Python that has the
SageMaker SDK, e.g. .venv/bin/python). Exits 0 and prints "ok" lines when all is
well, else exits 1 with one "error:" paragraph per problem.
"""
import ipaddress
import logging
import os
import subprocess
import sys
import urllib.parse

NETWORK = os.environ.get("SMALGO_S3_NETWORK", "sagemaker-local")


def ecr_names(region):
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    logging.disable(logging.CRITICAL)
    from sagemaker import image_uris

    return {algo: image_uris.retrieve(algo, region) for algo in ("kmeans", "pca")}


def have_image(name):
    return subprocess.run(["docker", "image", "inspect", name],
                          capture_output=True).returncode == 0


def check_images(region):
    problems = []
    for algo, name in ecr_names(region).items():
        if have_image(name):
            cls = {"kmeans": "KMeans", "pca": "PCA"}[algo]
            print(f"ok: {name} is here (sagemaker.{cls} in {region} runs it)")
        else:
            problems.append(
                f"error: Docker has no image {name}, the {algo} image the SDK uses in {region}.\n"
                f"  Without it, local mode tries to log in to Amazon ECR and pull Amazon's own "
                f"image.\n  Fix: SMALGO_TAG_AS_ECR={region} make image   (or, with the images "
                f"built: docker/tag-as-ecr.sh {region})")
    return problems


def endpoint():
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def is_loopback(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reachable_from_container(image, host, port):
    """A TCP connection from a throwaway container on NETWORK (bash's /dev/tcp in
    the given image), at most 5 s."""
    probe = f"exec 3<>/dev/tcp/{host}/{port}"
    out = subprocess.run(["docker", "run", "--rm", "--network", NETWORK, "--entrypoint",
                          "timeout", image, "5", "bash", "-c", probe],
                         capture_output=True, text=True, timeout=60)
    return out.returncode == 0


def check_endpoint(region):
    url = endpoint()
    fix = ('  Fix: eval "$(docker/local-s3.sh start)" and use the endpoint it prints (the '
           f"server's address on {NETWORK}, which this machine and the containers both reach).")
    if not url:
        return [f"error: no S3 endpoint is set (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL): the "
                f"SDK would use Amazon S3.\n{fix}"]
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80)
    if is_loopback(host):
        return [f"error: the S3 endpoint {url} is a loopback address. The SDK passes it to the "
                f"training container as AWS_ENDPOINT_URL_S3, and inside a container {host} is "
                f"the container itself, so smalgo cannot read the record set there.\n{fix}"]
    image = next((n for n in ecr_names(region).values() if have_image(n)), None)
    if image is None:
        return []  # reported by check_images; nothing to probe with
    if not reachable_from_container(image, host, port):
        return [f"error: the S3 endpoint {url} is not reachable from a container on the "
                f"{NETWORK} network, where the SDK runs training.\n{fix}"]
    print(f"ok: S3 endpoint {url} is reachable from containers on {NETWORK}")
    return []


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    problems = check_images(argv[1]) + check_endpoint(argv[1])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
