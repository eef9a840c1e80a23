"""``make fuzz``: every generated-input test at full strength, plus the hostile corpus.

Runs the hypothesis tests over the literature readers, the statistics API and the decision
aid's profiles with ``POSTCART_FUZZ_EXAMPLES`` examples each (default 1,300: over 10,000
inputs in all), and the hostile-file test of every CLI command. Prints the inputs tried,
the crashes (failing examples and failed tests) and the time; exits 1 on any crash.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

TESTS = [
    "tests/literature/test_readers_fuzz.py",
    "tests/stats/test_stats_fuzz.py",
    "tests/decision/test_profile_fuzz.py",
    "tests/test_hostile_cli.py",
]
#: Hypothesis's per-test statistics line ("- 300 passing, 0 failing, and 4 invalid test cases").
COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> int:
    env = {**os.environ, "POSTCART_FUZZ_EXAMPLES": os.environ.get("POSTCART_FUZZ_EXAMPLES", "1300")}
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--hypothesis-show-statistics", *TESTS]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    passing = failing = 0
    for found in COUNTS.finditer(run.stdout):
        passing += int(found.group(1))
        failing += int(found.group(2))
    summary = re.search(r"(\d+) passed", run.stdout)
    failed = re.search(r"(\d+) failed", run.stdout)
    tests_failed = int(failed.group(1)) if failed else 0
    crashes = failing + tests_failed
    if run.returncode != 0:
        print(run.stdout[-6000:])
        print(run.stderr[-2000:], file=sys.stderr)
    print(
        f"fuzz: {passing + failing:,} generated inputs tried "
        f"({env['POSTCART_FUZZ_EXAMPLES']} per test), hostile corpus run through every command; "
        f"tests passed: {summary.group(1) if summary else 0}; crashes: {crashes}; "
        f"time: {seconds:.0f} s"
    )
    return 0 if run.returncode == 0 and crashes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
