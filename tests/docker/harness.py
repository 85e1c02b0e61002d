"""A local emulation of a SageMaker training job, for the Docker tests and by hand.

What it does, the way SageMaker does it:
  - one folder per host (algo-1 ... algo-N) holding that host's /opt/ml: the
    config files (hyperparameters.json with string values, inputdataconfig.json
    with S3DistributionType and RecordWrapperType, resourceconfig.json with the
    host list and network_interface_name eth0), the channel folders, model/ and
    output/;
  - File mode: each host's channel folder gets every file (FullyReplicated) or
    its share of the files by sorted name (ShardedByS3Key: file j goes to host
    j mod N);
  - Pipe mode: `smalgo pipe` runs on this machine, one agent per host, and
    creates the FIFOs <channel>_<epoch> inside that host's bind-mounted
    input/data folder (FIFOs work across the container boundary); ShardedByS3Key
    passes --host-index/--host-count;
  - a compose file with services algo-1 ... algo-N on one bridge network, each
    started as `IMAGE train` with its own /opt/ml mounts, run with docker compose
    (v2 plugin if present, else docker-compose v1).

Why: Pipe mode and ShardedByS3Key cannot be tried in the SDK's local mode, and
the fault tests need to kill, stop or never start single hosts.

Usage:
    job = LocalJob(workdir, "smalgo-pca:latest", hosts=2,
                   hyperparameters={"feature_dim": 16, "num_components": 4},
                   channels={"train": Channel(folder, mode="Pipe",
                                              distribution="ShardedByS3Key")})
    with job:
        job.start()
        codes = job.wait(timeout=300)
    job.logs["algo-1"], job.model("algo-1"), job.failure("algo-2")
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "kit"))
from smgkit import mlroot  # noqa: E402
from smgkit.paths import smalgo_bin  # noqa: E402

_counter = itertools.count()


def compose_command() -> list[str]:
    """`docker compose` when the v2 plugin answers, else `docker-compose` (v1)."""
    try:
        out = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True,
                             timeout=30)
        if out.returncode == 0:
            return ["docker", "compose"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError("neither `docker compose` nor `docker-compose` is installed")


@dataclasses.dataclass
class Channel:
    source: pathlib.Path  # a folder of data files (or one file)
    mode: str = "File"  # File or Pipe
    content_type: str | None = None
    distribution: str = "FullyReplicated"  # or ShardedByS3Key

    def files(self) -> list[pathlib.Path]:
        src = pathlib.Path(self.source)
        if src.is_file():
            return [src]
        return sorted(p for p in src.rglob("*") if p.is_file() and not p.name.startswith("."))


class LocalJob:
    def __init__(self, workdir, image, hosts=1, hyperparameters=None, channels=None, env=None,
                 start_hosts=None, name=None, interface="eth0", checkpoints=False):
        self.workdir = pathlib.Path(workdir)
        self.image = image
        self.hosts = [f"algo-{i}" for i in range(1, hosts + 1)]
        self.hyperparameters = {str(k): str(v) for k, v in (hyperparameters or {}).items()}
        self.channels = dict(channels or {})
        self.env = {"AWS_REGION": "us-east-1", "TRAINING_JOB_NAME": "smalgo-docker-test"}
        self.env.update(env or {})
        # Hosts whose containers start(): the others never come up (a fault test).
        self.start_hosts = list(start_hosts) if start_hosts is not None else list(self.hosts)
        self.interface = interface  # resourceconfig.json network_interface_name
        # Mount <host>/checkpoints as /opt/ml/checkpoints (SageMaker's checkpoint_local_path).
        self.checkpoints = checkpoints
        self.project = name or f"smg{os.getpid()}x{next(_counter)}"
        self.compose = compose_command()
        self.compose_file = self.workdir / "docker-compose.json"
        self.agents: list[subprocess.Popen] = []
        self.logs: dict[str, str] = {}
        self.exit_codes: dict[str, int] = {}
        self.started_at = None
        self.ended_at: dict[str, float] = {}
        self._layout()

    # -- layout ---------------------------------------------------------------
    def host_dir(self, host) -> pathlib.Path:
        return self.workdir / host

    def _layout(self):
        n = len(self.hosts)
        dataconfig = {name: mlroot.channel(ch.content_type, ch.mode, ch.distribution)
                      for name, ch in self.channels.items()}
        for i, host in enumerate(self.hosts):
            root = mlroot.MLRoot(self.host_dir(host))
            root.write_hyperparameters(self.hyperparameters)
            root.write_inputdataconfig(dataconfig)
            root.write_resourceconfig(
                host, self.hosts, self.interface, current_instance_type="ml.m5.large",
                current_group_name="homogeneousCluster",
                instance_groups=[{"instance_group_name": "homogeneousCluster",
                                  "instance_type": "ml.m5.large",
                                  "hosts": list(reversed(self.hosts))}])
            for name, ch in self.channels.items():
                if ch.mode != "File":
                    continue
                dest = root.channel_dir(name)
                files = ch.files()
                for j, f in enumerate(files):
                    if ch.distribution == "ShardedByS3Key" and j % n != i:
                        continue
                    target = dest / f.name
                    if target.exists() and os.path.samefile(f, target):
                        continue  # a job laid out again in the same folder (a restart)
                    try:
                        os.link(f, target)
                    except OSError:
                        shutil.copyfile(f, target)
        services = {}
        for host in self.hosts:
            root = self.host_dir(host)
            if self.checkpoints:
                (root / "checkpoints").mkdir(exist_ok=True)
            services[host] = {
                "image": self.image,
                "command": ["train"],
                "container_name": f"{self.project}-{host}",
                "networks": {"job": {"aliases": [host]}},
                "environment": dict(self.env),
                "volumes": [f"{root}/input:/opt/ml/input", f"{root}/output:/opt/ml/output",
                            f"{root}/model:/opt/ml/model"] +
                           ([f"{root}/checkpoints:/opt/ml/checkpoints"] if self.checkpoints
                            else []),
                "stop_grace_period": "120s",
            }
        self.compose_file.write_text(json.dumps(
            {"version": "2.3", "networks": {"job": {"driver": "bridge"}},
             "services": services}, indent=1))

    # -- running ----------------------------------------------------------------
    def container(self, host) -> str:
        return f"{self.project}-{host}"

    def _compose(self, *args, check=True, timeout=300):
        return subprocess.run([*self.compose, "-p", self.project, "-f", str(self.compose_file),
                               *args], capture_output=True, text=True, check=check,
                              timeout=timeout)

    def start_pipe_agents(self, hosts=None):
        """`smalgo pipe` for each host (all hosts, or those in hosts: the others'
        FIFOs never appear, which stalls their rank: a fault test's tool). One
        agent per host for the sharded Pipe channels and one for the replicated."""
        n = len(self.hosts)
        groups = {}
        for name, ch in self.channels.items():
            if ch.mode == "Pipe":
                groups.setdefault(ch.distribution == "ShardedByS3Key", []).append(
                    f"{name}={ch.source}")
        for i, host in enumerate(self.hosts):
            if hosts is not None and host not in hosts:
                continue
            for sharded, specs in groups.items():
                cmd = [str(smalgo_bin()), "pipe", "--dir",
                       str(self.host_dir(host) / "input" / "data"), "--channel", ",".join(specs)]
                if sharded:
                    cmd += ["--host-index", str(i), "--host-count", str(n)]
                with open(self.workdir / f"pipe-{host}-{int(sharded)}.log", "w") as log:
                    self.agents.append(subprocess.Popen(cmd, stdout=log,
                                                        stderr=subprocess.STDOUT))

    def start(self, pipe_hosts=None):
        """Start the pipe agents (for every host, or those in pipe_hosts), then the
        containers of start_hosts."""
        self.start_pipe_agents(pipe_hosts)
        self.started_at = time.monotonic()
        self._compose("up", "-d", "--no-build", *self.start_hosts)

    def states(self) -> dict[str, tuple[str, int]]:
        names = [self.container(h) for h in self.start_hosts]
        out = subprocess.run(["docker", "inspect", "-f",
                              "{{.Name}} {{.State.Status}} {{.State.ExitCode}}", *names],
                             capture_output=True, text=True)
        result = {}
        for line in out.stdout.split("\n"):
            parts = line.split()
            if len(parts) == 3:
                host = parts[0].lstrip("/")[len(self.project) + 1:]
                result[host] = (parts[1], int(parts[2]))
        return result

    def running(self, host) -> bool:
        return self.states().get(host, ("", 0))[0] == "running"

    def wait(self, timeout=300) -> dict[str, int]:
        """Wait until every started container has exited; their exit codes.
        On timeout, kills them and raises TimeoutError (the job hung)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            now = time.monotonic()
            for host, (status, code) in states.items():
                if status in ("exited", "dead") and host not in self.ended_at:
                    self.ended_at[host] = now
                    self.exit_codes[host] = code
            if len(self.exit_codes) == len(self.start_hosts):
                self.collect_logs()
                return dict(self.exit_codes)
            if now > deadline:
                self.collect_logs()
                self._compose("kill", check=False)
                raise TimeoutError(f"job {self.project} still running after {timeout} s: "
                                   f"{states}\n" + self.log_text())
            time.sleep(0.5)

    def wait_for_process(self, host, name="smalgo", timeout=120):
        """Wait until a process called name runs in host's container."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["docker", "top", self.container(host), "-o", "pid,comm"],
                                 capture_output=True, text=True)
            if any(line.split()[-1:] == [name] for line in out.stdout.split("\n")[1:]):
                return
            time.sleep(0.5)
        self.collect_logs()
        raise TimeoutError(f"no {name} process in {host} after {timeout} s\n" + self.log_text())

    def collect_logs(self):
        for host in self.start_hosts:
            out = subprocess.run(["docker", "logs", self.container(host)], capture_output=True,
                                 text=True)
            self.logs[host] = out.stdout + out.stderr

    def log_text(self) -> str:
        return "\n".join(f"----- {h} -----\n{t}" for h, t in self.logs.items())

    def kill(self, host):
        subprocess.run(["docker", "kill", self.container(host)], capture_output=True, check=True)

    def stop(self, host, grace=120):
        return subprocess.Popen(["docker", "stop", "-t", str(grace), self.container(host)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self):
        for agent in self.agents:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
        for agent in self.agents:
            try:
                agent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        self.agents = []
        self._compose("down", "-t", "5", "--remove-orphans", check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- results ----------------------------------------------------------------
    def model(self, host="algo-1") -> pathlib.Path:
        return mlroot.MLRoot(self.host_dir(host)).model_file(host)

    def failure(self, host) -> str | None:
        p = mlroot.MLRoot(self.host_dir(host)).failure
        return p.read_text() if p.exists() else None

    def run(self, timeout=300) -> dict[str, int]:
        with self:
            self.start()
            return self.wait(timeout)
