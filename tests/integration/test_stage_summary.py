"""`make test`'s stage runner and summary (tests/run-stage.sh, tests/summary.py):
cmocka cases counted one by one with skipped ones as skipped, pytest skips with
their reasons, a failed or missing stage failing the run, the closing line; and
benchmarks/README.md's generated results section being current."""
import json
import subprocess
import sys

from smgkit import paths

REPO = paths.REPO
SUMMARY = REPO / "tests" / "summary.py"

CTEST_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite tests="3">
<testcase name="test_ndarray" status="run"><system-out>[==========] Running 2 test(s).
[ RUN      ] test_a
[       OK ] test_a
[ RUN      ] test_fixtures
SKIP: /x is absent; SageMaker fixture checks skipped
[  SKIPPED ] test_fixtures
[==========] 2 test(s) run.
[  PASSED  ] 1 test(s).
[  SKIPPED ] 1 test(s), listed below:
[  SKIPPED ] test_fixtures
</system-out></testcase>
<testcase name="test_crash" status="fail"><system-out>[ RUN      ] test_b
</system-out><failure message="Failed"/></testcase>
<testcase name="layering_probe" status="run"><system-out></system-out></testcase>
</testsuite>
"""

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite>
<testcase name="a"/><testcase name="b"><skipped message="no Docker engine"/></testcase>
<testcase name="c"><skipped message="no Docker engine"/></testcase>
<testcase name="d"><failure message="boom"/></testcase></testsuite></testsuites>
"""


def record(tmp_path, name, kind, status, report_text, log_text=""):
    report, log = tmp_path / f"{name}.xml", tmp_path / f"{name}.log"
    report.write_text(report_text)
    log.write_text(log_text)
    return subprocess.run([sys.executable, str(SUMMARY), "record", "--dir", str(tmp_path),
                           "--name", name, "--kind", kind, "--status", str(status),
                           "--seconds", "3", "--log", str(log), "--report", str(report)],
                          capture_output=True, text=True, check=True).stdout


def rows(tmp_path):
    return {r["stage"]: r for r in map(json.loads, (tmp_path / "stages.jsonl").open())}


def test_cmocka_cases_counted_and_skips_explained(tmp_path):
    out = record(tmp_path, "unit", "ctest", 8, CTEST_XML)
    r = rows(tmp_path)["unit"]
    # test_a and the probe pass; test_fixtures is skipped, not passed; the crash fails.
    assert (r["passed"], r["failed"], r["skipped"]) == (2, 1, 1)
    assert "test_ndarray/test_fixtures: SKIP: /x is absent" in out


def test_pytest_skips_grouped_with_reason_and_notes(tmp_path):
    out = record(tmp_path, "docker", "pytest", 1, PYTEST_XML, "NOTE: every Docker test SKIPPED\n")
    r = rows(tmp_path)["docker"]
    assert (r["passed"], r["failed"], r["skipped"]) == (1, 1, 2)
    assert "SKIPPED (2 tests): no Docker engine" in out and "NOTE: every Docker test" in out


def test_table_counts_missing_stage_as_failed(tmp_path):
    record(tmp_path, "unit", "ctest", 0, CTEST_XML.replace('status="fail"', 'status="run"')
           .replace('<failure message="Failed"/>', ""))
    done = subprocess.run([sys.executable, str(SUMMARY), "table", "--dir", str(tmp_path),
                           "unit", "asan-test"], capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert "(did not run)" in next(l for l in lines if l.startswith("asan-test"))
    assert lines[-1] == "3 passed, 1 failed, 1 skipped"


def test_table_all_green_exits_zero(tmp_path):
    record(tmp_path, "fmt", "check", 0, "")
    done = subprocess.run([sys.executable, str(SUMMARY), "table", "--dir", str(tmp_path), "fmt"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().endswith("1 passed, 0 failed, 0 skipped")


def test_run_stage_hides_output_and_shows_it_on_failure(tmp_path):
    env = {"SMALGO_STAGE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "V": "0"}
    ok = subprocess.run(["bash", str(REPO / "tests" / "run-stage.sh"), "quiet", "tap", "bash",
                         "-c", "echo chatter; echo 'ok one'; echo 'skip two: not here'"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "chatter" not in ok.stdout
    assert "-- quiet: ok, 1 passed, 0 failed, 1 skipped" in ok.stdout
    assert "SKIPPED: two: not here" in ok.stdout
    bad = subprocess.run(["bash", str(REPO / "tests" / "run-stage.sh"), "loud", "step", "bash",
                          "-c", "echo the-reason; exit 3"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 3 and "the-reason" in bad.stdout and "loud: FAILED" in bad.stdout
    assert (tmp_path / "loud.log").read_text().strip() == "the-reason"


def test_benchmarks_readme_results_are_current():
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "readme_results.py"),
                           "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
