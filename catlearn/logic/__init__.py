"""Logic-gate builders: learnable 2-input gates (LUTs), layers of LUTs whose
random wiring is data, the ``group_sum`` read-out, and networks of them. The
generators themselves (the fixed gates ``AND``, ``OR``, ``XOR``, ``NOT``, the
truth tables, the relaxations and ``wiring``) live in :mod:`catlearn.diagrams`
with a typed spec each; they stay importable from here.

A learnable gate's parameter is its truth table ``t = (t00, t01, t10, t11)``,
``t_ab`` the output on inputs ``(a, b)``: four parameter bits under
``cl.Boolean()``. Under ``cl.Smooth()`` the table is relaxed, by the choice of
``relax``:

- ``"sin"`` (default) / ``"sigmoid"``: the input-wise parametrization of "Light
  Differentiable Logic Gate Networks" (Rüttgers et al., 2025), four real
  numbers per gate, each squashed into [0, 1];
- ``"softmax"``: difflogic's parametrization (Petersen et al., NeurIPS 2022),
  16 logits per gate, a softmax over the 16 two-input Boolean functions;
- ``"gumbel"``: the same 16 logits trained with Gumbel noise and the
  straight-through estimator ("Mind the Gap", Yousefi et al., 2025): the
  forward pass uses the hard argmax gate, the backward pass the softmax's
  derivative. With no ``key`` (evaluation) there is no noise, so the relaxed
  network *is* its discretized circuit.

>>> import catlearn as cl
>>> net = cl.logic.network(8, [16, 16], n_classes=2, seed=0)
>>> net.dom, net.cod
(monoidal.Ty(bits(8)), monoidal.Ty(real(2)))
>>> net.params
{'net.0.table': monoidal.Ty(bits(64)), 'net.1.table': monoidal.Ty(bits(64))}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import TypeSpecError

# The generators live in the syntax layer; these names stay importable here.
from ..diagrams import AND as AND
from ..diagrams import GATE_CHOICES as GATE_CHOICES
from ..diagrams import GATES as GATES
from ..diagrams import NOT as NOT
from ..diagrams import ONE as ONE
from ..diagrams import OR as OR
from ..diagrams import PASS_A as PASS_A
from ..diagrams import RELAXATIONS as RELAXATIONS
from ..diagrams import RESIDUAL_CONFIDENCE as RESIDUAL_CONFIDENCE
from ..diagrams import (
    SEEDS,
    Box,
    Copy,
    Diagram,
    GroupSumSpec,
    Id,
    LutLayerSpec,
    LutSpec,
    Param,
    Swap,
    bits,
    check_indices,
    check_lut_inputs,
    check_memory,
    check_seed,
    is_count,
    is_temperature,
    real,
    wiring_bytes,
)
from ..diagrams import XOR as XOR
from ..diagrams import ZERO as ZERO
from ..diagrams import gate as gate
from ..diagrams import gate_tables as gate_tables
from ..diagrams import residual_scale as residual_scale
from ..diagrams import wiring as wiring
from ._conv import conv as conv
from ._conv import or_pool as or_pool
from ._conv import thermometer as thermometer
from ._conv import tile as tile
from ._wiring import flatten as flatten
from ._wiring import reshape as reshape
from ._wiring import select as select
from ._wiring import sort as sort

B1 = bits(1)


def _check_relax(relax: str) -> str:
    if relax not in RELAXATIONS:
        raise TypeSpecError(
            f"relaxation {relax!r} is not one of {RELAXATIONS}. Fix: use "
            "relax='sin' (the default), 'sigmoid', 'softmax' or 'gumbel'."
        )
    return relax


def _table(
    name: str, n_gates: int, relax: str, entries: int = 4, init: str = "residual"
) -> Diagram:
    """The tables of ``n_gates`` gates: ``init="residual"`` (each passes its
    first input, at ``RESIDUAL_CONFIDENCE``), or any ``Param`` init at scale 1."""
    return Param(
        f"{name}.table",
        bits(entries * n_gates),
        init=init,
        scale=residual_scale(relax) if init == "residual" else 1.0,
        relax=_check_relax(relax),
    )


def lut(
    name: str = "lut", relax: str = "sin", n_inputs: int = 2, init: str = "residual"
) -> Diagram:
    """A learnable 2-input gate ``bits(1) @ bits(1) -> bits(1)`` with parameter
    ``{name}.table`` of type ``bits(4)``, initialised to pass ``a`` through;
    ``relax`` picks its smooth reading (module docstring).

    ``n_inputs=k > 2``: a learnable ``k``-input lookup table ``bits(1)^k ->
    bits(1)`` (``2^k`` parameter bits, the model of Wilson & Zanasi's RDA
    experiments), built from ``2^(k-2)`` such gates on the first two inputs
    and a fixed multiplexer tree on the others, ``mux(s, u, v) = (~s & u) ^ (s
    & v)``; input ``j >= 2`` picks the sub-table ``{name}.0`` or ``{name}.1``
    (last input outermost), so entry ``x`` of the table is parameter bit
    ``2 x_0 + x_1`` of ``{name}.{x_{k-1}}. ... .{x_2}.table``. Its reverse
    derivative in the parameters is the error at the one entry that ``x``
    reads, as for the paper's table. ``init``: ``"residual"`` (pass ``a``) or
    any ``cl.Param`` init, as for :func:`lut_layer`.

    >>> lut("t", n_inputs=3).params
    {'t.0.table': monoidal.Ty(bits(4)), 't.1.table': monoidal.Ty(bits(4))}
    """
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 2:
        raise TypeSpecError(
            f"lut: n_inputs={n_inputs!r} must be an int >= 2. Fix: e.g. "
            "cl.logic.lut('t', n_inputs=4) for a 4-input lookup table."
        )
    if n_inputs > 2:
        first = B1 ** (n_inputs - 1)
        tables = lut(f"{name}.0", relax, n_inputs - 1, init) @ lut(
            f"{name}.1", relax, n_inputs - 1, init
        )
        mux = Diagram.then(
            B1 @ Swap(B1, B1) @ B1,  # (u, v, s, s) -> (u, s, v, s)
            B1 @ NOT @ B1 @ B1,
            AND @ AND,
            XOR,
        )
        return Diagram.then(Copy(first) @ Copy(B1), tables @ B1 @ B1, mux)
    gate = Box("lut", bits(4) @ B1 @ B1, B1, data=LutSpec(relax).to_data())
    return (_table(name, 1, relax, 4, init) @ B1 @ B1) >> gate


def lut_layer(
    n_in: int,
    n_out: int,
    seed: int = 0,
    name: str = "lut_layer",
    relax: str = "sin",
    wiring: Any = None,
    n_inputs: int = 2,
    wiring_relax: str | None = None,
    init: str = "residual",
) -> Diagram:
    """``n_out`` learnable gates in one box ``bits(n_in) -> bits(n_out)``, reading
    inputs ``wiring(n_in, n_out, seed)``, or the given ``wiring=(a, b)`` (two
    integer sequences of length ``n_out``: gate ``g`` reads wires ``a[g]`` and
    ``b[g]``; stored in the box and saved with the diagram); parameter
    ``{name}.table`` of type ``bits(4 n_out)`` (gate ``g``'s table at
    ``4g .. 4g+3``). Under ``Smooth`` with ``relax="softmax"`` or ``"gumbel"``
    the parameter array holds 16 logits per gate instead
    (``Program.param_shapes``).

    ``n_inputs=k``: gates of ``k`` inputs (the LUT-``k`` of FPGAs), a table
    ``bits(2^k n_out)``; gate ``g`` reads entry ``2 x_0 + x_1 + sum_{j>=2}
    2^j x_j`` of its ``2^k`` on inputs ``x_0 .. x_{k-1}`` (``wiring=`` then
    takes ``k`` sequences). ``Smooth`` reads the table's multilinear
    extension (``relax`` ``"sin"`` or ``"sigmoid"``), ``Boolean`` a
    multiplexer tree on the packed words, and the exported circuit its
    Shannon expansion into 2-input gates.

    ``wiring="learned"``: each gate chooses its inputs during training
    (:func:`select` of ``k n_out`` wires, parameter ``{name}.wiring``, then
    gates with given wiring reading groups of ``k`` chosen wires);
    ``cl.discretize`` fixes the choices, and Boolean, Kernel and the exported
    circuit read them. ``wiring_relax`` is the select's relaxation: ``"sin"``
    (each index bit squashed), ``"sigmoid"``, or ``"softmax"`` (logits over
    the indices); by default the tables' own (``"sin"`` for softmax or gumbel
    tables). ``wiring="random"`` (or ``None``) is the default.

    ``init``: the tables' initialisation, ``"residual"`` (each gate starts
    near passing its first input through, Petersen et al. 2024) or any
    ``cl.Param`` init (``"normal"``, ``"uniform"``, ...; scale 1).

    >>> lut_layer(17, 8, name="l", wiring="learned").params
    {'l.wiring': monoidal.Ty(bits(16, 5)), 'l.table': monoidal.Ty(bits(32))}
    >>> lut_layer(17, 8, name="l6", n_inputs=6).params
    {'l6.table': monoidal.Ty(bits(512))}
    """
    k = check_lut_inputs(n_inputs, f"lut_layer({n_in!r}, {n_out!r})")
    if k > 2 and relax in GATE_CHOICES:
        raise TypeSpecError(
            f"lut_layer: relax={relax!r} chooses among the 16 gates of 2 inputs, "
            f"but n_inputs={k}. Fix: relax='sin' or 'sigmoid' for gates of more "
            "inputs."
        )
    if wiring_relax is not None and wiring != "learned":
        raise TypeSpecError(
            f"lut_layer: wiring_relax={wiring_relax!r} relaxes learned wiring, "
            f"but wiring={_short(wiring)}. Fix: wiring='learned', or leave "
            "wiring_relax out."
        )
    if isinstance(wiring, str):
        if wiring == "learned":
            return _learned_layer(n_in, n_out, name, relax, k, wiring_relax, init)
        if wiring != "random":
            raise TypeSpecError(
                f"lut_layer: wiring={wiring!r} is not 'random', 'learned' or "
                f"{k} index sequences. Fix: one of those."
            )
        wiring = None
    for what, n in (("n_in", n_in), ("n_out", n_out)):
        if not is_count(n):
            raise TypeSpecError(
                f"lut_layer: {what} must be a positive int, got {n!r} "
                f"({type(n).__name__}). Fix: e.g. cl.logic.lut_layer(16, 32)."
            )
    n_in, n_out = int(n_in), int(n_out)
    what = f"lut_layer({n_in}, {n_out}, seed={seed!r})"
    seed = check_seed(seed, what)
    indices = None if wiring is None else check_indices(wiring, n_in, n_out, what, k)
    spec = LutLayerSpec(n_in, n_out, seed, _check_relax(relax), indices, k)
    box = Box(
        "lut_layer",
        bits(spec.entries * n_out) @ bits(n_in),
        bits(n_out),
        data=spec.to_data(),
    )
    return (_table(name, n_out, relax, spec.entries, init) @ bits(n_in)) >> box


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _learned_layer(
    n_in: int, n_out: int, name: str, relax: str, k: int, how: str | None, init: str
) -> Diagram:
    if not is_count(n_out):
        raise TypeSpecError(
            f"lut_layer: n_out must be a positive int, got {n_out!r}. Fix: e.g. "
            "cl.logic.lut_layer(16, 32, wiring='learned')."
        )
    n = k * int(n_out)
    groups = tuple(range(p, n, k) for p in range(k))  # gate g reads choices kg..
    if how is None:
        how = "sin" if relax in GATE_CHOICES else relax
    chosen = select(n_in, n, name=name, relax=how)
    return chosen >> lut_layer(n, n_out, name=name, relax=relax, wiring=groups,
                               n_inputs=k, init=init)


def group_sum(n: int, k: int, tau: float = 1.0) -> Diagram:
    """``bits(n) -> real(k)``: the number of ones in each of ``k`` consecutive
    groups of ``n / k`` bits (divided by the temperature ``tau`` under
    ``Smooth``; exact counts under ``Boolean``)."""
    if not is_count(n):
        raise TypeSpecError(
            f"group_sum: n must be a positive int, got {n!r}. Fix: the width "
            "of the layer it reads, e.g. cl.logic.group_sum(64, 2)."
        )
    if not is_count(k) or n % k:
        raise TypeSpecError(
            f"group_sum({n}, {k!r}): {n} bits do not split into {k!r} equal "
            "groups. Fix: a positive int k that divides n (the last layer's "
            "width), e.g. k=2 for a width of 64."
        )
    if not is_temperature(tau):
        raise TypeSpecError(
            f"group_sum({n}, {k}): tau {tau!r} is not a finite temperature > 0 "
            "(the counts are divided by it). Fix: tau=1.0, or leave it out."
        )
    data = GroupSumSpec(int(k), float(tau)).to_data()
    return Box("group_sum", bits(n), real(k), data=data)


def network(
    n_in: int,
    widths: Sequence[int],
    n_classes: int | None,
    seed: int = 0,
    name: str = "net",
    tau: float | None = None,
    relax: str = "sin",
    wiring: str = "random",
    n_inputs: int = 2,
    wiring_relax: str | None = None,
    init: str = "residual",
) -> Diagram:
    """LUT layers of the given widths, then ``group_sum`` into ``n_classes``
    counts. Layer ``i`` is wired with seed ``seed + i`` and has parameter
    ``{name}.{i}.table``. ``tau`` defaults to ``sqrt(widths[-1] / n_classes)``.
    ``n_inputs=k``: gates of ``k`` inputs (:func:`lut_layer`).

    ``wiring="learned"``: every gate chooses its inputs during training
    (``lut_layer(..., wiring="learned")``; parameters ``{name}.{i}.wiring``
    too), so few gates suffice where random wiring needs many;
    ``wiring_relax`` relaxes the choices and ``init`` draws the tables
    (:func:`lut_layer`).

    ``n_classes=None``: no ``group_sum``; the last layer's ``widths[-1]`` bits
    are the outputs (a circuit ``bits(n_in) -> bits(widths[-1])``, for exact
    functions with one target per output bit)."""
    if isinstance(widths, str) or not isinstance(widths, Iterable):
        raise TypeSpecError(
            f"network: widths must be a list of layer widths, got {widths!r} "
            f"({type(widths).__name__}). Fix: e.g. widths=[64, 64]."
        )
    widths = list(widths)
    if not widths:
        raise TypeSpecError(
            "network needs at least one layer width, got widths=[]. Fix: e.g. "
            "widths=[64, 64]."
        )
    if n_classes is not None and not is_count(n_classes):
        raise TypeSpecError(
            f"network: n_classes must be a positive int (or None: no group_sum), "
            f"got {n_classes!r}. Fix: e.g. n_classes=2."
        )
    if wiring not in ("random", "learned"):
        raise TypeSpecError(
            f"network: wiring={wiring!r} is not 'random' or 'learned'. Fix: one "
            "of those (give a layer its own wiring with cl.logic.lut_layer)."
        )
    where = f"network({n_in!r}, {widths!r}, {n_classes!r}, seed={seed!r})"
    seed = check_seed(seed, where)
    if seed + len(widths) - 1 >= SEEDS:  # layer i is wired with seed + i
        check_seed(
            seed + len(widths) - 1,
            f"{where}, layer {len(widths) - 1} (wired with seed + {len(widths) - 1})",
            f"seed={SEEDS - len(widths)} at most for {len(widths)} layers",
        )
    k = check_lut_inputs(n_inputs, where)
    sizes = [n_in, *widths]
    if all(is_count(n) for n in sizes):  # else lut_layer says what is wrong
        check_memory(where, network_bytes(sizes, relax, k), "fewer or narrower layers")
    layers = [
        lut_layer(a, b, seed=seed + i, name=f"{name}.{i}", relax=relax, wiring=wiring,
                  n_inputs=k, wiring_relax=wiring_relax, init=init)
        for i, (a, b) in enumerate(zip(sizes, widths, strict=False))
    ]
    if n_classes is None:
        return Diagram.then(Id(bits(n_in)), *layers)
    tau = math.sqrt(widths[-1] / n_classes) if tau is None else tau
    return Diagram.then(Id(bits(n_in)), *layers, group_sum(widths[-1], n_classes, tau))


def network_bytes(sizes: Sequence[int], relax: str = "sin", n_inputs: int = 2) -> int:
    """About how much memory a network of lut layers ``sizes[0] -> sizes[1] ->
    ...`` needs to exist: every layer's wiring and float32 tables (16 logits
    per gate for ``softmax``/``gumbel``, else ``2^n_inputs``), and the largest
    transient of drawing one layer's wiring."""
    per_gate = 4 * (16 if relax in GATE_CHOICES else 1 << n_inputs)
    kept, peak = 0, 0
    for a, b in zip(sizes, sizes[1:], strict=False):
        k, p = wiring_bytes(int(a), int(b), n_inputs)
        kept, peak = kept + k + per_gate * int(b), max(peak, p)
    return kept + peak


def count(
    diagram: Diagram, params: dict[str, Any], luts: bool = True, k: int = 6
) -> Any:
    """What the circuit of ``diagram`` with Boolean ``params`` costs: its
    2-input gates as built and after folding, and (``luts``, with yosys) the
    ``k``-input LUTs yosys and ABC map it to, ``group_sum``'s counters
    included (:class:`catlearn.export.Count`; see :func:`catlearn.export.count`).
    Smooth parameters go through ``cl.discretize(diagram, params)`` first."""
    from ..export import count as count_circuit  # export sits above logic's imports

    return count_circuit(diagram, params, luts=luts, k=k)
