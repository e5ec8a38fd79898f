"""How long `bpcheck report --graph` takes on a graph as large as a graph file may be.

    python bench/graph_speed.py          # writes the graph, times the report (3 runs)

The graph: 24 units in six layers (4 inputs, four tanh hidden layers of 4, 4 identity
outputs), every unit of a layer feeding every unit of the next, and two edges that skip a
layer: 82 edges, sum-of-squares loss, a bias on every unit but the inputs.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HIDDEN = 4, 4


def graph_toml() -> str:
    layers = [[f"x{i}" for i in range(1, WIDTH + 1)]]
    layers += [[f"h{l}u{i}" for i in range(1, WIDTH + 1)] for l in range(1, HIDDEN + 1)]
    layers.append([f"o{i}" for i in range(1, WIDTH + 1)])
    edges = [(a, b) for l in range(len(layers) - 1) for b in layers[l + 1] for a in layers[l]]
    edges += [(layers[1][0], layers[3][0]), (layers[2][1], layers[5][1])]  # skips
    lines = ['title = "24 units, 82 edges, six layers, two skip edges"', 'loss = "sse"',
             f"inputs = {layers[0]!r}".replace("'", '"'),
             f"outputs = {layers[-1]!r}".replace("'", '"'), "edges = ["]
    lines += [f'  {{ from = "{a}", to = "{b}", weight = "w_{b}_{a}" }},' for a, b in edges]
    lines += ["]", "", "[units]"]
    for l, units in enumerate(layers[1:], 1):
        act = "identity" if l == len(layers) - 1 else "tanh"
        lines += [f'{u} = {{ activation = "{act}", bias = "b_{u}" }}' for u in units]
    return "\n".join(lines) + "\n"


def main(runs: int = 3) -> int:
    exe = shutil.which("bpcheck")
    if exe is None:
        print("bpcheck is not installed: pip install -e .", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "graph24.toml")
        path.write_text(graph_toml())
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            p = subprocess.run([exe, "report", "--graph", str(path), "--notation", "bishop",
                                "--json"], capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t)
        verdicts = [c["verdict"] for c in __import__("json").loads(p.stdout)["checks"]]
    print(f"24 units, 82 edges: {len(verdicts)} checks, "
          f"{sum(v == 'undecided' for v in verdicts)} undecided; "
          f"median of {runs} runs {statistics.median(times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
