"""Gradescope's results.json from a pytest run: a point for each test that uses the
``bpcheck`` fixture and passes, each test with its output (the failure as pytest prints
it). The plugin (derive/pytest_plugin.py) registers it for ``--bpcheck-results-json FILE``;
under pytest-xdist only the controller does, and the workers' reports reach it there, so
one file is written for the whole run, in the order of the tests' ids.
"""
from __future__ import annotations

import pytest

from ..io.publish import publish
from ..present.checked_file import gradescope

TAG = ("bpcheck", "fixture")  # on a test's user_properties: it used the fixture
LONGEST = 20_000  # characters of a failure's output


class GradescopeResults:
    """Collects the fixture's tests' reports; writes the file when the session ends."""

    def __init__(self, path: str):
        self.path = path
        self.outcomes: dict[str, tuple[bool, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if TAG not in report.user_properties:
            return
        failed = report.failed or self.outcomes.get(report.nodeid, (False, ""))[0]
        text = report.longreprtext[:LONGEST] if report.failed else \
            self.outcomes.get(report.nodeid, (False, "passed"))[1]
        if report.when == "call" or report.failed:
            self.outcomes[report.nodeid] = (failed, text if failed else "passed")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        tests = [{"name": nodeid, "score": 0 if failed else 1, "max_score": 1,
                  "status": "failed" if failed else "passed", "output": text,
                  "visibility": "visible"}
                 for nodeid, (failed, text) in sorted(self.outcomes.items())]
        publish(self.path, gradescope(tests), force=True)
