"""How long `bpcheck report --net` takes on each example network of typed layers, in CPU
seconds and as a ratio to the import floor, the command and the floor run in turn.

    python bench/typed_speed.py           # 3 pairs a file
    python bench/typed_speed.py --pairs 5

The target (issue: typed layers): examples/batchnorm.toml, a 2-layer network with batch
norm over N = 4 patterns of 3 features, under 10 s here. Backpropagation through time is
timed at T = 2, 4, 8 and 16 steps (decided step by step, engine/time_steps.py) and as the
theorem for every T (report --depth any).
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ratios import FLOOR, cpu_of  # noqa: E402  (the same floor and accounting)
from bpcheck.derive.engine.typed_net import typed_report  # noqa: E402
from bpcheck.derive.model.layers import Conv2d, TypedNetwork  # noqa: E402

KINDS = ("dense", "activation", "softmax", "layernorm", "batchnorm", "residual", "attention",
         "conv1d", "conv2d", "maxpool", "rnn")
EXAMPLES = Path(__file__).parent.parent / "examples"
RNN_STEPS = (2, 4, 8, 16)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3, help="pairs a file (default 3)")
    args = ap.parse_args(argv)
    exe = shutil.which("bpcheck")
    if exe is None:
        print("bpcheck is not installed: pip install -e .", file=sys.stderr)
        return 2
    print(f"{datetime.date.today()}, {os.cpu_count()} cores; median of {args.pairs} pairs")
    print(f"{'examples/KIND.toml':<22} {'CPU s':>7} {'ratio':>7}")
    for kind in KINDS:
        cmd = [exe, "report", "--net", str(EXAMPLES / f"{kind}.toml")]
        pairs = [(cpu_of(cmd), cpu_of(FLOOR)) for _ in range(args.pairs)]
        seconds = statistics.median(c for c, _ in pairs)
        ratio = statistics.median(c / f for c, f in pairs)
        print(f"{kind:<22} {seconds:>7.2f} {ratio:>7.1f}", flush=True)
    # backpropagation through time at T steps: a recurrent layer of 2 units, a dense output
    with tempfile.TemporaryDirectory() as tmp:
        for T in RNN_STEPS:
            cmd = [exe, "report", "--net", str(_rnn_file(tmp, T)), "--budget", "300"]
            pairs = [(cpu_of(cmd), cpu_of(FLOOR)) for _ in range(args.pairs)]
            seconds = statistics.median(c for c, _ in pairs)
            ratio = statistics.median(c / f for c, f in pairs)
            print(f"{f'rnn, T = {T}':<22} {seconds:>7.2f} {ratio:>7.1f}", flush=True)
        # every T at once: the theorem by induction on T - t (the file's rows play no part)
        for function in ("tanh", "sigmoid", "relu"):
            cmd = [exe, "report", "--net", str(_rnn_file(tmp, 3, function)), "--depth", "any"]
            pairs = [(cpu_of(cmd), cpu_of(FLOOR)) for _ in range(args.pairs)]
            seconds = statistics.median(c for c, _ in pairs)
            ratio = statistics.median(c / f for c, f in pairs)
            print(f"{f'rnn, every T, {function}':<22} {seconds:>7.2f} {ratio:>7.1f}", flush=True)
    # beyond a network file's bounds (9 features a row): the engine in this process alone
    for n in (4, 8):
        net = TypedNetwork(f"conv {n}", rows=1, width=n * n,
                           layers=(Conv2d("1", n * n, height=n, kernel=3),))
        start = time.process_time()
        worst = typed_report(net).worst
        print(f"{f'conv2d {n}x{n}, 3x3 *':<22} {time.process_time() - start:>7.2f}"
              f"   ({worst}; * in-process, no import, no file)", flush=True)
    return 0


def _rnn_file(tmp: str, T: int, function: str = "tanh") -> Path:
    """A recurrent layer of 2 units over T steps, then a dense output."""
    path = Path(tmp) / f"rnn{T}-{function}.toml"
    path.write_text(f'rows = {T}\ninputs = 1\nloss = "sse"\n[[layers]]\nkind = "rnn"\n'
                    f'units = 2\nfunction = "{function}"\n[[layers]]\nkind = "dense"\nunits = 1\n')
    return path


if __name__ == "__main__":
    sys.exit(main())
