"""The examples in the docstrings run, and say what they show."""
from __future__ import annotations

import doctest
import importlib
import os
import pkgutil

import pytest

import bpcheck.derive

MODULES = sorted(m.name for m in pkgutil.walk_packages(bpcheck.derive.__path__, "bpcheck.derive."))


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(os.path.join(os.path.dirname(__file__), ".."))  # examples/ paths
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0, name
