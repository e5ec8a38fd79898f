"""A network file: a network of typed layers, read and validated (`report --net FILE`).

The file (TOML, at most 64 kB):

    title = "layer norm after a dense layer"   # optional
    rows = 2              # patterns of the mini-batch (tokens, where attention mixes them)
    inputs = 3            # features of each row
    loss = "sse"          # sse, or ce (after a softmax layer)

    [[layers]]            # in order from the input
    kind = "dense"        # dense, activation, softmax, layernorm, batchnorm, residual, attention,
                          # conv1d, maxpool, avgpool, flatten, rnn
    units = 3

Each kind's keys: dense: units, bias (default true); activation: function (identity,
sigmoid, tanh, relu, softplus); softmax: none; layernorm and batchnorm: affine (gamma and
beta, default true); residual: block, a list of layer tables of the same kinds (not
residual) that keeps the width; attention: d_k, d_v (default: the width); conv1d:
channels, filters, kernel, stride, padding; maxpool and avgpool: channels, window,
stride; flatten: none; rnn: units, function. At most 6 rows and 16 entries a layer; 16
rows (time steps) and 64 entries where the first layer is an rnn and the others dense or
activation layers. Every problem is one UsageError line that names the key.

>>> net = parse_net('rows = 2\\ninputs = 2\\n[[layers]]\\nkind = "batchnorm"\\n', source="bn.toml")
>>> net.layers[0].kind, net.rows
('batchnorm', 2)
"""
from __future__ import annotations

from typing import Any

from ..model.layers import (Attention, AvgPool1d, BatchNorm, Conv1d, Conv2d, Dense, Elementwise,
                            Flatten, Layer, LayerNorm, Pool1d, Recurrent, Residual, Softmax,
                            TypedNetwork)
from .fields import Fields, quoted
from .files import parse_toml, read_text

MAX_ROWS, MAX_WIDTH, MAX_LAYERS, MAX_ENTRIES = 6, 9, 8, 16  # 9: a 3 by 3 image
# a recurrence is decided one time step at a time (engine/time_steps.py), its work growing
# with T alone, where the layers that mix rows grow faster: more steps where every layer
# after it treats each row on its own
MAX_STEPS, MAX_STEP_ENTRIES, STEP_KINDS = 16, 64, ("dense", "activation")
KINDS = ("dense", "activation", "softmax", "layernorm", "batchnorm", "residual", "attention",
         "conv1d", "conv2d", "maxpool", "avgpool", "flatten", "rnn")
FUNCTIONS = ("identity", "sigmoid", "tanh", "relu", "softplus")
KEYS = {"dense": ("units", "bias"), "activation": ("function",), "softmax": (),
        "layernorm": ("affine",), "batchnorm": ("affine",), "residual": ("block",),
        "attention": ("d_k", "d_v"),
        "conv1d": ("channels", "filters", "kernel", "stride", "padding"),
        "conv2d": ("channels", "filters", "kernel", "stride", "padding", "height"),
        "maxpool": ("channels", "window", "stride", "height"),
        "avgpool": ("channels", "window", "stride", "height"),
        "flatten": (), "rnn": ("units", "function")}


def load_net(path: str) -> TypedNetwork:
    """Read and validate a network file."""
    return parse_net(read_text(path, what="network"), source=path)


def parse_net(text: str, *, source: str) -> TypedNetwork:
    f = Fields(parse_toml(text, source=source, what="network"), source=source)
    f.only(("title", "rows", "inputs", "loss", "layers"))
    title = f.string("title", longest=200, default="a network of typed layers")
    tables = f.get("layers")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise f.fail(f"layers must be a list of tables ([[layers]]), got {quoted(tables)}")
    if len(tables) > MAX_LAYERS:
        raise f.fail(f"{len(tables)} layers is beyond the bound of {MAX_LAYERS}")
    kinds = [t.get("kind") for t in tables]
    steps = kinds[0] == "rnn" and all(k in STEP_KINDS for k in kinds[1:])
    said = f.get("rows")
    if not steps and type(said) is int and MAX_ROWS < said <= MAX_STEPS:
        why = "" if kinds[0] != "rnn" else next(
            f": layer {n} is {k!r}" for n, k in enumerate(kinds[1:], 2) if k not in STEP_KINDS)
        raise f.fail(f"rows = {said} is beyond the bound of {MAX_ROWS}{why} (of {MAX_STEPS} "
                     f"time steps where the first layer is an rnn and every later one is "
                     f"{' or '.join(STEP_KINDS)})")
    rows = f.integer("rows", 1, MAX_STEPS if steps else MAX_ROWS)
    inputs = width = f.integer("inputs", 1, MAX_WIDTH)
    loss = f.choice("loss", ("sse", "ce"), default="sse")
    layers = []
    for n, table in enumerate(tables, 1):
        layer = _layer(Fields(table, source=source, where=f"[[layers]] {n}"), str(n), width,
                       rows, inner=False, entries=MAX_STEP_ENTRIES if steps else MAX_ENTRIES)
        layers.append(layer)
        width = layer.out
    if loss == "ce" and layers[-1].kind != "softmax":
        raise f.fail("loss = 'ce' takes logarithms of the outputs: the last layer must be "
                     "a softmax")
    return TypedNetwork(title, rows, inputs, tuple(layers), loss)


def _layer(f: Fields, at: str, width: int, rows: int, *, inner: bool,
           entries: int = MAX_ENTRIES) -> Layer:
    kinds = tuple(k for k in KINDS if not (inner and k == "residual"))
    kind = f.choice("kind", kinds)
    f.only(("kind",) + KEYS[kind])
    if kind == "dense":
        layer: Layer = Dense(at, width, units=f.integer("units", 1, MAX_WIDTH),
                             bias=f.choice("bias", (True, False), default=True))
    elif kind == "activation":
        layer = Elementwise(at, width, function=f.choice("function", FUNCTIONS))
    elif kind == "softmax":
        layer = Softmax(at, width)
    elif kind in ("layernorm", "batchnorm"):
        cls = LayerNorm if kind == "layernorm" else BatchNorm
        layer = cls(at, width, affine=f.choice("affine", (True, False), default=True))
    elif kind == "attention":
        layer = Attention(at, width, d_k=f.integer("d_k", 1, 4),
                          d_v=f.integer("d_v", 1, MAX_WIDTH, default=width))
    elif kind in ("conv1d", "conv2d", "maxpool", "avgpool", "flatten", "rnn"):
        layer = _sequence(f, kind, at, width)
    else:
        layer = _residual(f, at, width, rows)
    if rows * max(layer.width, layer.out) > entries:
        raise f.fail(f"{rows} rows of {max(layer.width, layer.out)} features is beyond the "
                     f"bound of {entries} entries a layer")
    return layer


def _sequence(f: Fields, kind: str, at: str, width: int) -> Layer:
    """A layer over a row's channels by positions (conv1d, pooling, flatten), or over the
    rows as time steps (rnn)."""
    if kind == "flatten":
        return Flatten(at, width)
    if kind == "rnn":
        return Recurrent(at, width, units=f.integer("units", 1, MAX_WIDTH),
                         function=f.choice("function", FUNCTIONS, default="tanh"))
    channels = f.integer("channels", 1, width, default=1)
    if width % channels:
        raise f.fail(f"channels = {channels} does not divide the row's {width} features "
                     "(channels by positions, channel-major)")
    length = width // channels
    if kind == "conv2d":
        return _conv2d(f, at, width, channels)
    if kind == "conv1d":
        kernel = f.integer("kernel", 1, length + 2 * MAX_WIDTH, default=2)
        layer: Layer = Conv1d(at, width, channels=channels,
                              filters=f.integer("filters", 1, MAX_WIDTH, default=1),
                              kernel=kernel, stride=f.integer("stride", 1, MAX_WIDTH, default=1),
                              padding=f.integer("padding", 0, kernel - 1, default=0))
    else:
        height = f.integer("height", 1, length, default=1)
        if length % height:
            raise f.fail(f"height = {height} does not divide the {length} positions of a "
                         "channel (channels by image rows by columns)")
        window = f.integer("window", 1, length // height, default=min(2, length // height))
        cls = Pool1d if kind == "maxpool" else AvgPool1d
        layer = cls(at, width, channels=channels, window=window, height=height,
                    stride=f.integer("stride", 1, MAX_WIDTH, default=window))
    if min(getattr(layer, "out_shape", (layer.out_length,))) < 1:
        raise f.fail(f"a {kind} over {length} positions leaves no output position")
    return layer


def _conv2d(f: Fields, at: str, width: int, channels: int) -> Layer:
    """An image of `height` rows by width / (channels height) columns, channel-major."""
    height = f.integer("height", 1, width // channels)
    if (width // channels) % height:
        raise f.fail(f"height = {height} does not divide the {width // channels} positions of "
                     "a channel (channels by image rows by image columns)")
    kernel = f.integer("kernel", 1, MAX_WIDTH, default=2)
    layer = Conv2d(at, width, channels=channels, height=height,
                   filters=f.integer("filters", 1, MAX_WIDTH, default=1), kernel=kernel,
                   stride=f.integer("stride", 1, MAX_WIDTH, default=1),
                   padding=f.integer("padding", 0, kernel - 1, default=0))
    if min(layer.out_shape) < 1:
        raise f.fail(f"a {kernel} by {kernel} kernel over {height} by {layer.columns} leaves no "
                     "output position")
    return layer


def _residual(f: Fields, at: str, width: int, rows: int) -> Residual:
    block: Any = f.get("block")
    if not isinstance(block, list) or not block or not all(isinstance(t, dict) for t in block):
        raise f.fail(f"block must be a list of layer tables ([[layers.block]]), got "
                     f"{quoted(block)}")
    inner, w = [], width
    for m, table in enumerate(block, 1):
        layer = _layer(Fields(table, source=f.source, where=f"{f.where} block {m}"),
                       f"{at}.{m}", w, rows, inner=True)
        inner.append(layer)
        w = layer.out
    if w != width:
        raise f.fail(f"the block maps {width} features to {w}: y = x + F(x) needs F to keep "
                     "the width")
    return Residual(at, width, inner=tuple(inner))
