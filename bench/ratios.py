"""Each command where a user waits, as a ratio to the import floor, in one run.

    python bench/ratios.py              # 5 pairs a case
    python bench/ratios.py --pairs 9

The floor is what every command pays before it does anything: Python starting and
importing SymPy, rich, lark and the engine. Each case runs in turn with the floor (case,
floor, case, floor, ...) and the ratio is taken pair by pair, CPU time (user + system, the
child's own accounting) over the floor's; the median of the pairs' ratios is printed, so a
busy machine moves both sides of a pair and not the figure. Targets are ratios too.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from graph_speed import graph_toml  # noqa: E402  (the README's 24-unit, 82-edge graph)

FLOOR = [sys.executable, "-c", "import sympy, rich, lark, bpcheck.derive.engine.truth"]


def example_toml(widths: list[int], *, seed: int = 1) -> str:
    """A worked example's spec on a sigmoid network of these widths, weights drawn at random
    as short decimals (read exactly, so the example works in rationals)."""
    rng = random.Random(seed)
    def row(n):
        return "[" + ", ".join(f"{rng.randint(-90, 90) / 100:g}" for _ in range(n)) + "]"
    lines = [f'title = "sigmoid {"-".join(map(str, widths))}"', f"layers = {widths}",
             'hidden = "sigmoid"', 'output = "sigmoid"', 'loss = "sse"', "bias = true",
             "learning_rate = 0.5", f"input = {row(widths[0])}",
             f"target = {row(widths[-1])}", "", "[weights]"]
    lines += [f'"{l}" = [' + ", ".join(row(widths[l - 1]) for _ in range(widths[l])) + "]"
              for l in range(1, len(widths))]
    lines += ["", "[biases]"] + [f'"{l}" = {row(widths[l])}' for l in range(1, len(widths))]
    return "\n".join(lines) + "\n"


def cases(exe: str, folder: Path) -> list[tuple[str, list[str], float | None]]:
    graph = folder / "graph-24.toml"
    graph.write_text(graph_toml())
    specs = {}
    for widths in ([2, 16, 16, 2], [2, 32, 32, 2]):
        name = "-".join(map(str, widths))
        specs[name] = folder / f"example-{name}.toml"
        specs[name].write_text(example_toml(widths))
    return [
        ("bpcheck --help", [exe, "--help"], 0.5),
        ("bpcheck check --hidden nope (a mistyped value)", [exe, "check", "x", "--hidden", "nope"], 0.5),
        ("bpcheck check one equation", [exe, "check", r"\delta_k = y_k - t_k", "--notation", "bishop"], None),
        ("bpcheck report (2-3-2, all notations)", [exe, "report"], None),
        ("bpcheck report --layers 8 layers of 32", [exe, "report", "--layers", ",".join(["32"] * 9)], 10),
        ("bpcheck report --graph (24 units, 82 edges)", [exe, "report", "--graph", str(graph), "--budget", "900"], 10),
        ("bpcheck example 2-16-16-2", [exe, "example", str(specs["2-16-16-2"]), "--budget", "900"], 4),
        ("bpcheck example 2-32-32-2", [exe, "example", str(specs["2-32-32-2"]), "--budget", "900"], 6),
        ("bpcheck catalogue", [exe, "catalogue"], 5),
    ]


def cpu_of(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1, 2):
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5, help="pairs a case (default 5)")
    ap.add_argument("--only", default="", help="the cases whose name contains this text")
    args = ap.parse_args(argv)
    exe = shutil.which("bpcheck")
    if exe is None:
        print("bpcheck is not installed: pip install -e .", file=sys.stderr)
        return 2
    floor = statistics.median(cpu_of(FLOOR) for _ in range(3))
    print(f"{datetime.date.today()}, {os.cpu_count()} cores; floor {floor:.2f} s CPU; "
          f"median of {args.pairs} paired ratios (CPU)")
    print(f"{'case':<52} {'ratio':>7} {'target':>7}")
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd, target in cases(exe, Path(tmp)):
            if args.only not in name:
                continue
            cpu_of(cmd)  # warm-up: the grammar cache and the file system
            ratios = [cpu_of(cmd) / cpu_of(FLOOR) for _ in range(args.pairs)]
            ratio = statistics.median(ratios)
            miss = target is not None and ratio > target
            missed += miss
            print(f"{name:<52} {ratio:>7.2f} {'' if target is None else f'<{target:g}':>7}"
                  f"{'  MISSED' if miss else ''}", flush=True)
    return int(bool(missed))


if __name__ == "__main__":
    sys.exit(main())
