"""Runs one pytest file for ctest: exit 77 (ctest: Skipped) when pytest is missing or every test skipped."""

import sys
from pathlib import Path

try:
    import pytest
except ImportError:
    print("skipped: pytest is not installed (Debian: apt-get install python3-pytest)")
    sys.exit(77)


class SkipCounter:
    def __init__(self):
        self.ran = self.skipped = 0

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.skipped):
            self.ran += 1
            self.skipped += report.skipped


counter = SkipCounter()
# A temporary folder of this file's own (in ctest's working folder, wiped at the start): files running side by
# side never share or clean up each other's.
basetemp = Path.cwd() / ("tmp_" + Path(sys.argv[1]).stem)
code = pytest.main(["-q", "-p", "no:cacheprovider", "-rs", f"--basetemp={basetemp}", sys.argv[1]], plugins=[counter])
if code == 0 and counter.ran > 0 and counter.ran == counter.skipped:
    sys.exit(77)
sys.exit(int(code))
