"""The long run of the fuzz suite: N generated hostile or careless inputs, every kind in
turn (LaTeX to check and translate, notation, graph and spec files, options), each run as
the command line runs it, in this process, and judged (tests/fuzz/cases.py).

    python bench/fuzz.py --cases 10000     # the README's figures
    python bench/fuzz.py --cases 300       # a quick look

Prints, per kind and in all: cases, exit statuses, tracebacks, errors not one line,
messages with internals, runs past budget + 1 s, the slowest run; then every problem with
its argv. Exit 1 if there is any.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz"))
from cases import KINDS, judge, run  # noqa: E402  the fuzz suite's generators and judge


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    kinds = sorted(KINDS)
    statuses: dict[str, Counter] = {k: Counter() for k in kinds}
    problems, slowest, start = [], (0.0, ()), time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.cases):
            kind = kinds[i % len(kinds)]
            rng = random.Random(args.seed * 1_000_003 + i)
            folder = Path(tmp) / str(i)
            folder.mkdir()
            ran = run(KINDS[kind](rng, folder))
            statuses[kind][ran.status] += 1
            slowest = max(slowest, (ran.seconds, ran.argv))
            problems += [(kind, w, ran.argv) for w in judge(ran)]
    total = Counter()
    for kind in kinds:
        total += statuses[kind]
        print(f"{kind:<10} {sum(statuses[kind].values()):>6} cases   exit "
              + ", ".join(f"{s}: {n}" for s, n in sorted(statuses[kind].items())))
    print(f"all        {sum(total.values()):>6} cases in {time.monotonic() - start:.0f} s   exit "
          + ", ".join(f"{s}: {n}" for s, n in sorted(total.items())))
    kinds_of = Counter(w.split(":")[0].split(" ")[0] for _, w, _ in problems)
    print(f"problems: {len(problems)} ({', '.join(f'{k} {n}' for k, n in kinds_of.items()) or 'none'})"
          f"   slowest run: {slowest[0]:.2f} s")
    for kind, w, a in problems[:40]:
        print(f"  {kind}: {w}\n      {list(a)!r:.300}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
