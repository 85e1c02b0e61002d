"""The README's runnable shell blocks, extracted and run as a user would paste them.

A fenced block is runnable when the line just before its opening fence is
`<!-- runnable -->` (or `<!-- runnable: KIND -->`, e.g. KIND=docker for blocks
that need the images). The blocks of one file run in order in one bash session
(`set -euo pipefail`), so a later block may use what an earlier one made, in a
sandbox folder whose entries link to the checkout's, so nothing lands in the
clone. Python blocks run through the interpreter running the test. Used by
tests/integration/test_readme.py and tests/docker/test_readme_docker.py.
"""
import os
import pathlib
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

from smgkit import paths

MARKER = re.compile(r"^<!-- runnable(?::\s*([\w-]+))?\s*-->\s*$")
FENCE = re.compile(r"^```(\w*)")


@dataclass
class Block:
    path: pathlib.Path
    line: int  # 1-based line of the opening fence
    kind: str  # "" or the marker's KIND
    lang: str
    text: str


def runnable_blocks(path, kind=""):
    """The runnable blocks of PATH whose marker KIND is `kind`, in file order."""
    lines = pathlib.Path(path).read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m and i + 1 < len(lines) and (f := FENCE.match(lines[i + 1])):
            end = i + 2
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            if (m.group(1) or "") == kind:
                blocks.append(Block(pathlib.Path(path), i + 2, m.group(1) or "", f.group(1),
                                    "\n".join(lines[i + 2:end])))
            i = end
        i += 1
    return blocks


def sandbox(folder, links=None):
    """Make FOLDER look like the checkout: a link to each top-level entry (not
    .git), with LINKS {relative path: target} in place of the checkout's own (a
    top-level folder named in LINKS is a real folder holding only those links)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = dict(links or {})
    own = {name.split("/")[0] for name in links}
    for entry in paths.REPO.iterdir():
        if entry.name != ".git" and entry.name not in own:
            (folder / entry.name).symlink_to(entry)
    for name, target in links.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(target)
    return folder


def script(blocks, substitutions=None):
    """One bash script of BLOCKS, each announced, with text substitutions."""
    # Whatever a block left running in the background ends with the script, so a
    # failing block cannot leave the output pipe open until the timeout.
    parts = ["set -euo pipefail", "trap 'kill $(jobs -p) 2> /dev/null || true' EXIT"]
    for b in blocks:
        text = b.text
        for old, new in (substitutions or {}).items():
            text = text.replace(old, str(new))
        if b.lang == "python":  # run by $SMGKIT_PYTHON (the caller's interpreter)
            text = f'"$SMGKIT_PYTHON" - <<\'SMGKIT_PY\'\n{text}\nSMGKIT_PY'
        parts.append(f"echo '>>> {b.path.name}:{b.line}'\n{text}")
    return "\n".join(parts) + "\n"


def run(blocks, cwd, env=None, timeout=300, substitutions=None):
    """Run BLOCKS in CWD; returns (exit status, output). Everything the blocks
    left running (servers started with &) is killed when the run ends."""
    env = dict(os.environ, SMGKIT_PYTHON=sys.executable, **(env or {}))
    proc = subprocess.Popen(["bash", "-c", script(blocks, substitutions)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -1, out + f"\n(timed out after {timeout} s)"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.returncode, out
