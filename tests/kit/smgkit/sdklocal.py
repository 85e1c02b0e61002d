"""The SageMaker Python SDK's local mode, offline: no AWS credentials, config
files or instance metadata to find; a fixed region; telemetry opted out; and
the containers the SDK leaves behind found by the names it gives them.

Why: tests/docker/test_sdk.py and test_deploy.py drive the images through the
real SDK the same way; this is that way, once.
"""
import re
import subprocess

AWS_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                       "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
ROLE = "arn:aws:iam::111111111111:role/dummy"
# The SDK names its containers <10 chars>-algo-N-<5 chars>.
SDK_CONTAINER = re.compile(r"[a-z0-9]{10}-algo-\d+-[a-z0-9]{5}")


def go_offline(monkeypatch, tmp_path):
    """Through a pytest MonkeyPatch: nothing for boto3 to find, no SDK v2 warning."""
    for name in AWS_CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


def local_session(**local):
    """A LocalSession in us-east-1 with telemetry opted out; `local` adds keys to
    its config["local"] (local_code is always True), e.g. serving_port."""
    import boto3
    from sagemaker.local import LocalSession

    # Telemetry opted out: offline it would only log a stack trace per call.
    session = LocalSession(boto_session=boto3.Session(region_name="us-east-1"),
                           sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {
                               "PythonSDK": {"Modules": {"TelemetryOptOut": True}}}})
    session.config = {"local": {"local_code": True, **local}}
    return session


def container_ids(images):
    """Containers (any state) of the given images named the way the SDK names them."""
    found = set()
    for image in images:
        out = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--filter", f"ancestor={image}",
                              "--format", "{{.ID}} {{.Names}}"], capture_output=True, text=True)
        for line in out.stdout.split("\n"):
            parts = line.split()
            if len(parts) == 2 and SDK_CONTAINER.fullmatch(parts[1]):
                found.add(parts[0])
    return found
