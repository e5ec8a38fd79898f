"""The project's structure, read from its source with `ast`: imports flow one way, no
circle, no import hidden in a function (but the plugin's deliberate lazy one), no function
over 60 lines and no module over 500."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DERIVE = ROOT / "derive"
# a module may import from its own package and from packages ranked below it
RANK = {"cli": 7, "pytest_plugin": 7, "commands": 6, "io": 5, "latex": 4, "present": 4,
        "engine": 3, "model": 2, "errors": 1, "equations": 1}
# import on first use, on purpose: the plugin and the package, and the command line, which
# parses its arguments before it imports the engine (--help without SymPy)
LAZY = {"derive/pytest_plugin.py", "derive/__init__.py", "cli.py"}
LONGEST_FUNCTION, LONGEST_MODULE = 60, 500


def modules() -> dict[str, Path]:
    """Dotted name within bpcheck -> file, for cli.py, derive/ and equations/."""
    out = {"cli": ROOT / "cli.py"}
    for base in ("derive", "equations"):
        for path in sorted((ROOT / base).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project's modules an import statement names (dotted within bpcheck)."""
    if isinstance(node, ast.Import):
        return [a.name[len("bpcheck."):] for a in node.names if a.name.startswith("bpcheck.")]
    if node.level == 0:
        if not (node.module or "").startswith("bpcheck."):
            return []
        base = node.module[len("bpcheck."):]
    else:
        parts = importer.split(".")
        parts = parts if is_package else parts[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    known = modules()
    names = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
    return names or [base]


def imports() -> list[tuple[str, str, bool, int]]:
    """(importer, imported, inside a function, line) for every import of the project's own."""
    out = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(), str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        nested = {id(x) for f in functions for x in ast.walk(f)}
        guarded = {id(x) for n in ast.walk(tree) if isinstance(n, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(n.test) for x in ast.walk(n)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in guarded:
                for target in _resolve(name, path.name == "__init__.py", node):
                    out.append((name, target, id(node) in nested, node.lineno))
    return out


def package(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "derive" and len(parts) > 1:
        return parts[1]
    return parts[0] if parts[0] != "derive" else "derive"


def test_no_function_imports_the_projects_own_modules_except_the_deliberately_lazy_ones():
    hidden = [(a, b, line) for a, b, inside, line in imports()
              if inside and str(modules()[a].relative_to(ROOT)) not in LAZY]
    assert hidden == []


def test_imports_flow_one_way_commands_then_latex_present_io_then_engine_then_model():
    upward = []
    for a, b, _, line in imports():
        pa, pb = package(a), package(b)
        if pa == pb or pa not in RANK or pb not in RANK or a.endswith("__init__") or pa == "derive":
            continue
        if RANK[pb] >= RANK[pa]:
            upward.append(f"{a}:{line} imports {b}")
    assert upward == []


def test_there_is_no_import_circle():
    graph: dict[str, set[str]] = {}
    for a, b, inside, _ in imports():
        if not inside and a != b:
            graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}

    def visit(u, path):
        state[u] = 1
        for v in graph.get(u, ()):
            if state.get(v) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(v):] + [v]))
            if v not in state:
                visit(v, path + [v])
        state[u] = 2

    for u in list(graph):
        if u not in state:
            visit(u, [u])


def test_the_engine_and_the_model_know_nothing_of_rich():
    for name, path in modules().items():
        if package(name) in ("engine", "model"):
            assert "rich" not in path.read_text(), name


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_500_lines_and_no_function_over_60(name):
    path = modules()[name]
    source = path.read_text()
    assert len(source.splitlines()) <= LONGEST_MODULE, f"{name}: {len(source.splitlines())} lines"
    if not name.startswith("derive"):
        return
    tree = ast.parse(source)
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > LONGEST_FUNCTION]
    assert long == [], f"{name}: {long}"


def test_every_data_file_the_code_reads_is_installed_with_it():
    """A non-editable install (a wheel, pre-commit's environment) carries only what
    package-data names: each data file beside the code must be named there."""
    import fnmatch
    import tomllib
    root = Path(__file__).resolve().parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    dirs = {"bpcheck.derive.model": root / "derive" / "model",
            "bpcheck.derive.latex": root / "derive" / "latex",
            "bpcheck.equations": root / "equations"}
    for package, folder in dirs.items():
        files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file() and p.suffix in (".toml", ".lark")]
        assert files, package
        for f in files:
            assert any(fnmatch.fnmatch(f, pattern) for pattern in data.get(package, [])), (package, f)


def test_the_names_the_command_line_offers_are_the_tables_keys():
    from bpcheck.derive.model import activation, loss, names
    assert names.OUTPUT_ACTIVATIONS == tuple(activation.ACTIVATIONS)
    assert names.HIDDEN_ACTIVATIONS == tuple(n for n, a in activation.ACTIVATIONS.items()
                                             if a.elementwise)
    assert names.LOSSES == tuple(loss.LOSSES)
    shipped = ROOT / "derive" / "model" / "notations"
    assert sorted(names.BUILTIN) == sorted(p.stem for p in shipped.glob("*.toml"))


@pytest.mark.parametrize("argv, status, says", [
    (["--help"], 0, "usage: bpcheck"),
    (["--version"], 0, "bpcheck "),
    (["report", "--help"], 0, "--hidden NAME"),
    (["report", "--hidden", "sigmod"], 2, "unknown hidden activation 'sigmod' (did you mean"),
    (["check", "--loss", "mse", "x"], 2, "unknown loss 'mse' (did you mean 'sse'?)"),
    (["reprot"], 2, "did you mean 'report'"),
    (["report", "--jobs", "2"], 2, "unrecognized arguments: --jobs"),
])
def test_help_version_and_a_mistyped_option_answer_without_sympy(argv, status, says):
    import subprocess
    import sys
    code = ("import sys\nfrom bpcheck.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    status = e.code or 0\n"
            "print('sympy' in sys.modules, status, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                       timeout=60)
    assert says in p.stdout + p.stderr
    assert p.stderr.splitlines()[-1] == f"False {status}"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 66, 140, 522, 3000])
def test_the_quick_tier_runs_a_spread_sample_of_each_table_growing_like_its_root(n):
    from conftest import quick_sample
    kept = quick_sample(n)
    assert kept == sorted(set(kept)) and kept[0] == 0 and kept[-1] <= n - 1
    if n > 3:
        assert kept[-1] == n - 1 and len(kept) >= 2
        gaps = [b - a for a, b in zip(kept, kept[1:])]
        assert max(gaps) - min(gaps) <= 1                       # evenly spread
    assert len(kept) <= max(1, math.isqrt(n) // 4 + 2)


def test_the_help_names_every_shipped_notation_and_every_catalogue_source():
    from bpcheck.derive.commands.parser import build_parser
    from bpcheck.derive.model.names import BUILTIN
    parser = build_parser()
    top = parser.format_help().lower()
    assert all(name in top for name in BUILTIN), top
    sub = next(a for a in parser._actions if a.dest == "command").choices
    catalogue = " ".join(sub["catalogue"].format_help().lower().split())
    from bpcheck.equations import load_catalogue
    sources = sorted({e.source for e in load_catalogue()})
    assert sources and all(s in catalogue for s in sources), (sources, catalogue)
