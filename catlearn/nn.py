"""Smooth model builders: each returns a small diagram of ``Param`` boxes and
generators that ``cl.Smooth()`` interprets.

>>> import catlearn as cl
>>> model = cl.nn.mlp([4, 16, 3])
>>> model.dom, model.cod
(monoidal.Ty(real(4)), monoidal.Ty(real(3)))
>>> list(model.params)
['mlp.0.w', 'mlp.0.b', 'mlp.1.w', 'mlp.1.b']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from discopy.monoidal import Ty

from ._errors import TypeSpecError
from .diagrams import Box, Diagram, Id, Param, is_count, real

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "gelu", "silu", "softplus",
               "elu", "leaky_relu", "log_softmax")
"""Elementwise boxes (``softmax`` and ``log_softmax`` over the last axis);
the ones after ``softmax`` are ``jax.nn``'s (``gelu`` its tanh
approximation, ``leaky_relu`` slope 0.01, ``elu`` alpha 1)."""


def _shape(shape: tuple[Any, ...], what: str) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    if not shape or not all(is_count(v) for v in shape):
        raise TypeSpecError(
            f"{what}: the shape {shape!r} is not positive ints. Fix: e.g. "
            f"cl.nn.{what}(16) or cl.nn.{what}(4, 8)."
        )
    return tuple(int(v) for v in shape)


def _elementwise(name: str, *shape: Any) -> Diagram:
    wire = real(*_shape(shape, name))
    return Box(name, wire, wire)


def gelu(*shape: int) -> Diagram:
    """``jax.nn.gelu`` (tanh approximation) on ``real(*shape)``."""
    return _elementwise("gelu", *shape)


def silu(*shape: int) -> Diagram:
    """``x * sigmoid(x)`` (``jax.nn.silu``) on ``real(*shape)``."""
    return _elementwise("silu", *shape)


def softplus(*shape: int) -> Diagram:
    """``log(1 + exp(x))`` on ``real(*shape)``."""
    return _elementwise("softplus", *shape)


def elu(*shape: int) -> Diagram:
    """``x`` if positive, else ``exp(x) - 1`` (``jax.nn.elu``)."""
    return _elementwise("elu", *shape)


def leaky_relu(*shape: int) -> Diagram:
    """``x`` if positive, else ``0.01 x`` (``jax.nn.leaky_relu``)."""
    return _elementwise("leaky_relu", *shape)


def log_softmax(*shape: int) -> Diagram:
    """``log(softmax(x))`` over the last axis, stable (``jax.nn.log_softmax``)."""
    return _elementwise("log_softmax", *shape)


def relu(n: int) -> Diagram:
    """``max(x, 0)`` on ``real(n)``."""
    return _elementwise("relu", n)


def sigmoid(n: int) -> Diagram:
    """``1 / (1 + exp(-x))`` on ``real(n)``."""
    return _elementwise("sigmoid", n)


def tanh(n: int) -> Diagram:
    """``tanh(x)`` on ``real(n)``."""
    return _elementwise("tanh", n)


def softmax(n: int) -> Diagram:
    """Softmax over the ``n`` features of each example."""
    return _elementwise("softmax", n)


def add(*shape: int) -> Diagram:
    """``real(*shape) @ real(*shape) -> real(*shape)``: elementwise sum (the
    monoid of R[copy]); ``add(n)`` on vectors, ``add(c, h, w)`` on any shape."""
    wire = real(*_shape(shape, "add"))
    return Box("add", wire @ wire, wire)


def mul(*shape: int) -> Diagram:
    """``real(*shape) @ real(*shape) -> real(*shape)``: elementwise product."""
    wire = real(*_shape(shape, "mul"))
    return Box("mul", wire @ wire, wire)


def reshape(shape: Sequence[int], new_shape: Sequence[int]) -> Diagram:
    """``real(*shape) -> real(*new_shape)``, the same numbers in row-major
    order (``cl.logic.reshape`` is its twin on bits). The box's check
    refuses shapes of different sizes."""
    return Box("reshape", real(*shape), real(*new_shape))


def flatten(*shape: int) -> Diagram:
    """``real(*shape) -> real(n)``, ``n`` the number of entries (row-major)."""
    return reshape(shape, (math.prod(shape),))


def linear(n_in: int, n_out: int, name: str = "linear") -> Diagram:
    """``x -> x @ W`` with parameter ``{name}.w`` of type ``real(n_in, n_out)``,
    drawn uniformly in ``±1/sqrt(n_in)``."""
    w = Param(f"{name}.w", real(n_in, n_out), init="uniform", scale=_fan_in(n_in))
    return (w @ real(n_in)) >> Box(
        "matmul", real(n_in, n_out) @ real(n_in), real(n_out)
    )


def bias(
    n: int, name: str = "bias", init: str = "zeros", scale: float = 1.0
) -> Diagram:
    """``x -> x + b`` with parameter ``{name}.b`` of type ``real(n)``."""
    b = Param(f"{name}.b", real(n), init=init, scale=scale)
    return (b @ real(n)) >> add(n)


def dense(
    n_in: int, n_out: int, activation: str | None = "relu", name: str = "dense"
) -> Diagram:
    """``linear >> bias >> activation``, parameters ``{name}.w`` and ``{name}.b``
    (both uniform in ``±1/sqrt(n_in)``, as equinox and PyTorch do).
    ``activation=None`` leaves the layer linear."""
    layer = linear(n_in, n_out, name=name) >> bias(
        n_out, name=name, init="uniform", scale=_fan_in(n_in)
    )
    return layer if activation is None else layer >> activation_box(activation, n_out)


def mlp(
    sizes: Sequence[int], activation: str | None = "relu", name: str = "mlp"
) -> Diagram:
    """Dense layers ``sizes[0] -> ... -> sizes[-1]``, ``activation`` between
    them and none after the last (the outputs are logits). Layer ``i`` has
    parameters ``{name}.{i}.w`` and ``{name}.{i}.b``."""
    if isinstance(sizes, str) or not isinstance(sizes, Iterable):
        raise TypeSpecError(
            f"mlp: sizes must be a list of layer sizes, got {sizes!r} "
            f"({type(sizes).__name__}). Fix: e.g. cl.nn.mlp([4, 16, 3])."
        )
    sizes = list(sizes)
    for i, n in enumerate(sizes):
        _check_size(n, f"mlp({sizes}): sizes[{i}]")
    if len(sizes) < 2:
        raise TypeSpecError(
            f"mlp({sizes}) needs at least two sizes (inputs and outputs), e.g. "
            "cl.nn.mlp([4, 16, 3])."
        )
    layers = [
        dense(a, b, activation if i < len(sizes) - 2 else None, name=f"{name}.{i}")
        for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False))
    ]
    return Diagram.then(Id(real(sizes[0])), *layers)


def activation_box(activation: str, n: int) -> Diagram:
    """The elementwise box named ``activation`` on ``real(n)``."""
    if activation not in ACTIVATIONS:
        raise TypeSpecError(
            f"activation {activation!r} is not one of {ACTIVATIONS} (or None). "
            'Fix: e.g. activation="relu", or None for a linear layer.'
        )
    return _elementwise(activation, n)


def _check_size(n: Any, what: str) -> int:
    if not is_count(n):
        raise TypeSpecError(
            f"{what} must be a positive int (a number of features), got {n!r} "
            f"({type(n).__name__}). Fix: e.g. 16."
        )
    return int(n)


def _fan_in(n_in: int) -> float:
    return 1.0 / math.sqrt(_check_size(n_in, "n_in"))


def from_equinox(module: Any, dom: Any, cod: Any, name: str = "eqx") -> Diagram:
    """An ``equinox.Module`` as a box ``dom -> cod``: its arrays (``eqx.partition
    (module, eqx.is_inexact_array)``) become parameters ``{name}.{path}``
    (initialised to the module's own values), and it runs on one example at a
    time, mapped over the batch. Under ``Smooth`` its reverse is ``jax.vjp``
    (:mod:`catlearn.functors._eqx_rules`). ``dom`` and ``cod``: catlearn
    types (``cl.real(...)``, or several with ``@``); the module takes one
    argument per ``dom`` wire and returns one array per ``cod`` wire (a
    tuple for several).

    >>> import equinox as eqx, jax, catlearn as cl
    >>> box = cl.nn.from_equinox(eqx.nn.Linear(3, 2, key=jax.random.key(0)),
    ...                          cl.real(3), cl.real(2), name="lin")
    >>> sorted(box.params)
    ['lin.bias', 'lin.weight']
    """
    import uuid

    import equinox as eqx
    import jax

    from .diagrams import EQUINOX_MODULES as MODULES
    from .diagrams import EquinoxEntry as Entry
    from .diagrams import EquinoxSpec

    if not isinstance(module, eqx.Module):
        raise TypeSpecError(
            f"from_equinox: {type(module).__name__} is not an equinox.Module. Fix: "
            "pass an eqx.Module (e.g. eqx.nn.MLP(...)), or build the diagram "
            "from cl.nn layers."
        )
    dom, cod = _as_ty(dom, "dom"), _as_ty(cod, "cod")
    arrays, static = eqx.partition(module, eqx.is_inexact_array)
    paths, treedef = jax.tree_util.tree_flatten_with_path(arrays)
    token = uuid.uuid4().hex[:12]
    leaves = tuple(leaf for _, leaf in paths)
    MODULES[token] = Entry(static, treedef, leaves)
    params = []
    for i, (path, leaf) in enumerate(paths):
        label = jax.tree_util.keystr(path).replace("[", ".").replace("]", "")
        label = ".".join(p.strip("'\"") for p in label.split(".") if p)
        params.append(Param(f"{name}.{label}", real(*leaf.shape),
                            init=f"equinox:{token}:{i}"))
    spec = EquinoxSpec(token, len(params)).to_data()
    box_dom = dom
    for p in reversed(params):
        box_dom = p.cod @ box_dom
    box = Box("equinox", box_dom, cod, data=spec)
    feeds = dom
    for p in reversed(params):
        feeds = p @ feeds
    return feeds >> box


def _as_ty(ty: Any, what: str) -> Any:
    if not hasattr(ty, "inside") or not ty.inside:
        raise TypeSpecError(
            f"from_equinox: {what}={ty!r} is not a catlearn type. Fix: e.g. "
            f"{what}=cl.real(28, 28) (several wires: cl.real(3) @ cl.real(2))."
        )
    return ty


def recurrent(cell: Diagram, steps: int, name: str = "rnn",
              init: str = "zeros", scan: bool = True) -> Diagram:
    """A recurrent model by unrolling: ``x_1 @ ... @ x_steps -> h``, where
    ``cell: h @ x -> h`` runs once per step on the previous state and that
    step's input, from a learnable initial state ``{name}.h0`` (``init``).
    Every copy of the cell has the same parameter names, so its weights are
    shared (their cotangents add up), under every semantics: a logic cell
    (``bits`` state) runs exactly under ``Boolean``. Give a sequence ``X``
    of shape ``(n, steps, ...)`` as one array per step: ``tuple(X[:, t] for
    t in range(steps))``.

    With ``scan=True`` (default) the loop is one ``recurrent`` box, ``P @ h @
    x^steps -> h``, its first inputs the cell's parameters fed by ``Param``
    boxes outside it (the weights every step shares, drawn as wires into the
    one box): ``Smooth`` runs it by ``jax.lax.scan`` (compile time does not
    grow with ``steps``), every other functor as the cell unrolled
    (``cl.diagrams.RecurrentSpec``). ``scan=False`` builds the unrolled
    diagram itself: the same meaning, every step's boxes visible.

    >>> import catlearn as cl
    >>> cell = (cl.nn.linear(4, 4, name="hh") @ cl.nn.linear(2, 4, name="xh")
    ...         ) >> cl.nn.add(4) >> cl.nn.tanh(4)
    >>> rnn = cl.nn.recurrent(cell, 3)
    >>> rnn.dom, rnn.cod
    (monoidal.Ty(real(2), real(2), real(2)), monoidal.Ty(real(4)))
    >>> sorted(rnn.params)
    ['hh.w', 'rnn.h0', 'xh.w']
    """
    if not is_count(steps):
        raise TypeSpecError(
            f"recurrent: steps={steps!r} must be a positive int. Fix: e.g. "
            "steps=len(sequence)."
        )
    dom, cod = cell.dom.inside, cell.cod.inside
    if len(dom) != 2 or len(cod) != 1 or dom[0] != cod[0]:
        raise TypeSpecError(
            f"recurrent: the cell must map state @ input -> state (two wires to "
            f"the first one), got {cell.dom} -> {cell.cod}. Fix: e.g. a cell "
            "real(h) @ real(x) -> real(h)."
        )
    state, x = cell.dom[:1], cell.dom[1:]
    relax = "sin" if dom[0].kind == "bits" else None
    h0 = Param(f"{name}.h0", state, init=init, relax=relax)
    if scan:
        return _scanned(cell, steps, h0)
    parts = [h0 @ Id(x ** steps)]
    for t in range(steps):
        rest = steps - 1 - t
        parts.append(cell @ Id(x ** rest) if rest else cell)
    return Diagram.then(*parts)


def dropout(rate: float, *shape: int) -> Diagram:
    """Dropout on ``real(*shape)``: in training (``cl.fit`` passes a key) each
    value is zeroed with probability ``rate`` and the rest scaled by ``1 / (1 -
    rate)``, so the expected value is unchanged; in evaluation (no key) the
    identity. Its reverse masks the cotangent the same way.

    >>> import numpy as np, jax, catlearn as cl
    >>> prog = cl.Smooth()(cl.nn.dropout(0.5, 4))
    >>> x = np.ones((2, 4), np.float32)
    >>> prog({}, x).tolist()  # no key: the identity
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    >>> sorted(set(np.asarray(prog({}, x, key=jax.random.key(0))).ravel().tolist()))
    [0.0, 2.0]
    """
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not (
            0 <= rate < 1):
        raise TypeSpecError(
            f"dropout: rate={rate!r} must be a number in [0, 1) (the probability "
            "of zeroing a value). Fix: e.g. cl.nn.dropout(0.1, 64)."
        )
    wire = real(*_shape(shape, "dropout"))
    return Box("dropout", wire, wire, data=(("rate", float(rate)),))


def _scanned(cell: Diagram, steps: int, h0: Param) -> Diagram:
    from .diagrams import RecurrentSpec, encode_cell, param_boxes

    found = param_boxes(cell)
    feed = Id(Ty())
    for p in found.values():
        feed = feed @ p
    spec = RecurrentSpec(encode_cell(cell), steps, tuple(found))
    x = cell.dom[1:]
    box = Box("recurrent", feed.cod @ cell.dom[:1] @ x ** steps, cell.cod,
              data=spec.to_data())
    return (feed @ h0 @ Id(x ** steps)) >> box


def layer_norm(n: int, name: str = "ln") -> Diagram:
    """Layer normalisation over the ``n`` features of ``real(n)``: ``g (x -
    mean) / sqrt(var + 1e-5) + b``, gain ``{name}.g`` (ones) and shift
    ``{name}.b`` (zeros)."""
    n = _check_size(n, "layer_norm(n)")
    g = Param(f"{name}.g", real(n), init="ones")
    b = Param(f"{name}.b", real(n), init="zeros")
    return (g @ b @ real(n)) >> Box("layer_norm", real(n) @ real(n) @ real(n), real(n))


def embedding(vocab: int, dim: int, length: int = 1, name: str = "emb") -> Diagram:
    """``real(length) -> real(length, dim)``: each of ``length`` ids (given as
    numbers, rounded down and clipped to ``0..vocab-1``) picks its row of the
    table ``{name}.table`` (``real(vocab, dim)``, normal, scale 1). The ids
    get no cotangent."""
    vocab = _check_size(vocab, "embedding(vocab)")
    dim = _check_size(dim, "embedding(dim)")
    length = _check_size(length, "embedding(length)")
    table = Param(f"{name}.table", real(vocab, dim), init="normal")
    box = Box("embedding", real(vocab, dim) @ real(length), real(length, dim))
    return (table @ real(length)) >> box
