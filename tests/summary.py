#!/usr/bin/env python3
"""Counts of `make test`'s stages, and the table that closes the run.

`tests/run-stage.sh` calls `summary.py record` after each stage: it counts the
stage's tests from its JUnit report (ctest, pytest) or its log (tap), prints one
line of counts and every skip with its reason, and appends the counts to
DIR/stages.jsonl. `summary.py table --dir DIR STAGE...` prints one row per stage
(a stage that never ran, because something it needs failed, counts as failed),
the notes again, then `N passed, N failed, N skipped`, and exits 1 when anything failed.

cmocka cases are counted one by one from each ctest case's output (ctest alone
would report a cmocka executable with a skipped case as one "Passed" test); an
executable that prints no cmocka summary counts as one test. Standard library
only: it runs before the venv exists.
"""
import argparse
import collections
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

CMOCKA_SUMMARY = re.compile(r"^\[  (PASSED|FAILED|SKIPPED) +\] (\d+) test\(s\)", re.M)
CMOCKA_CASE = re.compile(r"^\[ RUN      \] (\S+)$")
CMOCKA_SKIPPED = re.compile(r"^\[  SKIPPED \] (\S+)$")


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.skips = collections.Counter()  # reason -> how many

    def skip(self, reason, n=1):
        self.skipped += n
        self.skips[reason.strip() or "no reason given"] += n


def cmocka_skip_reasons(output):
    """Each skipped cmocka case with the last line it printed before skip()."""
    reasons, last = [], ""
    for line in output.splitlines():
        if line.startswith("[==========]") and "run." in line:
            break  # the summary repeats the skipped names
        if CMOCKA_CASE.match(line):
            last = ""
        elif m := CMOCKA_SKIPPED.match(line):
            reasons.append(f"{m.group(1)}: {last or 'no reason printed'}")
        elif line.strip() and not line.startswith("["):
            last = line.strip()
    return reasons


def count_ctest(report, counts):
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name")
        out = case.findtext("system-out") or ""
        found = {k: int(n) for k, n in CMOCKA_SUMMARY.findall(out)}
        failed = case.find("failure") is not None or case.get("status") == "fail"
        skipped = case.find("skipped") is not None or case.get("status") in ("notrun", "disabled")
        if skipped:
            msg = case.find("skipped")
            counts.skip(f"{name}: {msg.get('message', '') if msg is not None else 'not run'}")
        elif found:
            counts.passed += found.get("PASSED", 0)
            counts.failed += found.get("FAILED", 0) or (1 if failed else 0)
            n = found.get("SKIPPED", 0)
            reasons = cmocka_skip_reasons(out)[:n]
            for reason in reasons + ["a cmocka case"] * (n - len(reasons)):
                counts.skip(f"{name}/{reason}")
        elif failed:
            counts.failed += 1
        else:
            counts.passed += 1


def count_pytest(report, counts):
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            counts.failed += 1
        elif (s := case.find("skipped")) is not None:
            reason = s.get("message", "")
            counts.skip(re.sub(r"^Skipped: ", "", reason))
        else:
            counts.passed += 1


def count_tap(log, counts):
    for line in log.splitlines():
        if line.startswith("ok "):
            counts.passed += 1
        elif line.startswith("not ok "):
            counts.failed += 1
        elif line.startswith("skip "):
            counts.skip(line[5:])


def record(args):
    counts = Counts()
    report = pathlib.Path(args.report)
    log_path = pathlib.Path(args.log)
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    try:
        if args.kind == "ctest" and report.exists():
            count_ctest(report, counts)
        elif args.kind == "pytest" and report.exists():
            count_pytest(report, counts)
        elif args.kind == "tap":
            count_tap(log, counts)
        elif args.kind == "check":
            counts.passed = 1 if args.status == 0 else 0
    except ET.ParseError as e:
        print(f"   (could not read {report}: {e})")
    if args.status != 0 and counts.failed == 0:
        counts.failed = 1  # the command failed though no test did: a build, a crash
    word = "ok" if args.status == 0 else "FAILED"
    tail = f", {counts.skipped} skipped" if counts.skipped else ""
    if args.kind == "step":
        print(f"-- {args.name}: {word} ({args.seconds} s; log {args.log})")
    else:
        print(f"-- {args.name}: {word}, {counts.passed} passed, {counts.failed} failed"
              f"{tail} ({args.seconds} s)")
    for reason, n in sorted(counts.skips.items()):
        print(f"   SKIPPED{f' ({n} tests)' if n > 1 else ''}: {reason}")
    notes = [line[6:] for line in log.splitlines() if line.startswith("NOTE: ")]
    for note in notes:
        print(f"   NOTE: {note}")
    row = {"stage": args.name, "passed": counts.passed, "failed": counts.failed,
           "skipped": counts.skipped, "seconds": int(args.seconds), "status": args.status,
           "notes": notes}
    with open(pathlib.Path(args.dir) / "stages.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def table(args):
    path = pathlib.Path(args.dir) / "stages.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    seen = {r["stage"] for r in rows}
    for stage in args.stages:
        if stage not in seen:
            rows.append({"stage": stage, "passed": 0, "failed": 1, "skipped": 0, "seconds": 0,
                         "status": "not run"})
    print(f"\n{'stage':<16} {'passed':>7} {'failed':>7} {'skipped':>8} {'seconds':>8}")
    for r in rows:
        note = "  (did not run)" if r["status"] == "not run" else ""
        print(f"{r['stage']:<16} {r['passed']:>7} {r['failed']:>7} {r['skipped']:>8} "
              f"{r['seconds']:>8}{note}")
    total = {k: sum(r[k] for r in rows) for k in ("passed", "failed", "skipped", "seconds")}
    print(f"{'total':<16} {total['passed']:>7} {total['failed']:>7} {total['skipped']:>8} "
          f"{total['seconds']:>8}")
    for r in rows:
        for note in r.get("notes", []):
            print(f"NOTE ({r['stage']}): {note}")
    print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if total["failed"] else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for opt in ("--dir", "--name", "--kind", "--log", "--report", "--seconds"):
        r.add_argument(opt, required=True)
    r.add_argument("--status", type=int, required=True)
    t = sub.add_parser("table")
    t.add_argument("--dir", required=True)
    t.add_argument("stages", nargs="*")
    args = p.parse_args()
    if args.cmd == "record":
        record(args)
        return 0
    return table(args)


if __name__ == "__main__":
    sys.exit(main())
