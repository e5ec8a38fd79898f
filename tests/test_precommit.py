"""The pre-commit hook, run by pre-commit itself in a temporary git repository: a notes
repository keeps its derivations proved on every commit."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None,
                                 reason="pre-commit and git are needed")]


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def test_the_hook_passes_proved_notes_and_fails_a_wrong_step(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("the hook is tried from this repository's git checkout")
    notes = tmp_path / "notes"
    notes.mkdir()
    _git(notes, "init", "-q")
    (notes / "bp.tex").write_text("% bpcheck: notation=bishop\n"
                                  "\\[ \\delta_j = h'(a_j) \\sum_k w_{kj}\\delta_k \\]\n")
    _git(notes, "add", "bp.tex")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    run = lambda: subprocess.run(["pre-commit", "try-repo", str(ROOT), "bpcheck", "--files",
                                  "bp.tex"], cwd=notes, capture_output=True, text=True,
                                 env=env, timeout=900)
    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Passed" in ok.stdout
    (notes / "bp.tex").write_text("% bpcheck: notation=bishop\n"
                                  "\\[ \\delta_j = \\sum_k w_{kj}\\delta_k \\]\n")
    bad = run()
    assert bad.returncode == 1 and "Failed" in bad.stdout
    assert "missing-activation-derivative" in bad.stdout
