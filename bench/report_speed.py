"""How long `bpcheck report` takes, end to end, as a user runs it.

    python bench/report_speed.py            # every case, 3 runs each

Targets: the default report under 3 s and --layers 4,8,8,8,4 under 10 s on a 2-core
machine; the widest and deepest network the command accepts at its bound, and the proofs
for every width and every depth. Prints the median of the runs and the core count.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

CASES = [
    ("default (2-3-2, all notations)", ["report"], 3.0),
    ("--layers 4,8,8,8,4", ["report", "--layers", "4,8,8,8,4"], 10.0),
    ("--layers 4,8,8,8,4 --hidden tanh --output softmax --loss ce",
     ["report", "--layers", "4,8,8,8,4", "--hidden", "tanh", "--output", "softmax", "--loss", "ce"],
     10.0),
    ("--layers 32,32,32,32,32,32,32,32,32 (8448 weights), all notations",
     ["report", "--layers", ",".join(["32"] * 9)], 30.0),
    ("--width n (every width), all notations", ["report", "--width", "n"], 5.0),
    ("--depth any (every depth and width), all notations", ["report", "--depth", "any"], 5.0),
]


def main(runs: int = 3) -> int:
    exe = shutil.which("bpcheck")
    if exe is None:
        print("bpcheck is not installed: pip install -e .", file=sys.stderr)
        return 2
    print(f"cores: {os.cpu_count()}, runs per case: {runs} (median shown)")
    print(f"{'case':<62} {'seconds':>8} {'target':>7}")
    worst = 0
    for name, args, target in CASES:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([exe, *args], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
        median = statistics.median(times)
        worst |= median > target
        print(f"{name:<62} {median:>8.2f} {'<' + format(target, 'g') + ' s':>7}"
              f"{'' if median <= target else '  MISSED'}")
    return int(worst)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
