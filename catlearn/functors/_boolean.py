"""``Boolean``: the reverse-derivative category of Boolean circuits over Z2.

Wires carry exact bits, packed 32 examples per ``uint32`` word
(:mod:`catlearn.backends.bits`); the API takes and returns bool arrays of
shape ``(batch, n)``. Cotangents add by XOR, so ``R[copy](x, (d1, d2)) = d1 ⊕
d2`` and the derivative belongs to the circuit, not to the function it
computes:

>>> import numpy as np, catlearn as cl
>>> B, x = cl.Boolean(), np.array([[True], [False]])
>>> square = cl.Copy(cl.bits(1)) >> cl.logic.AND       # x AND x = x
>>> B(square).reverse({}, x, x)[1][0].ravel().tolist()  # R[x AND x] = 0
[False, False]
>>> B(cl.Id(cl.bits(1))).reverse({}, x, x)[1][0].ravel().tolist()  # R[id] = dz
[True, False]

The rules, for words ``a, b, dz`` (``~`` is NOT, ``&`` AND, ``^`` XOR):

    AND  a & b         R = (b & dz, a & dz)
    OR   a | b         R = (~b & dz, ~a & dz)
    XOR  a ^ b         R = (dz, dz)
    NOT  ~a            R = dz
    LUT  t00 ~a~b ^ t01 ~a b ^ t10 a~b ^ t11 a b      (polynomial in a, b, t)
         R_t = dz & (~a~b, ~a b, a~b, a b)
         R_a = dz & ((t00 ^ t10) & ~b  |  (t01 ^ t11) & b)
         R_b = dz & ((t00 ^ t01) & ~a  |  (t10 ^ t11) & a)
    LUT of k > 2 inputs (lut_layer(..., n_inputs=k)): a multiplexer tree,
         R_t = dz & minterm,  R_{x_p} = dz & (f|x_p=1 ^ f|x_p=0)
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError
from ..backends import anf, fan_in
from ..backends import bits as B
from ..diagrams import GroupSumSpec, LutLayerSpec, Param, ParamSpec, Wire
from ._encoder_rules import BOOLEAN_ENCODER_RULES
from ._functor import Functor
from ._repeat import repeat
from ._rule import Rule
from ._smooth_logic import bit_order
from ._wiring_rules import BOOLEAN_WIRING_RULES

ONES, ZERO = B.ONES, np.uint32(0)


def _lut(t: Any, a: Any, b: Any) -> Any:
    """Gates with tables ``t`` ``(g, 4, w)`` on inputs ``a, b`` ``(g, w)``, in
    algebraic normal form: ``c0 ^ a (c1 ^ b c3) ^ b c2`` (6 word operations;
    the four minterms take 13)."""
    c0, c1, c2, c3 = anf(t)
    return c0 ^ (a & (c1 ^ (b & c3))) ^ (b & c2)


def _lut_reverse(t: Any, a: Any, b: Any, dz: Any) -> tuple[Any, Any, Any]:
    na, nb = ~a, ~b
    dt = jnp.stack([dz & na & nb, dz & na & b, dz & a & nb, dz & a & b], axis=1)
    da = dz & (((t[:, 0] ^ t[:, 2]) & nb) | ((t[:, 1] ^ t[:, 3]) & b))
    db = dz & (((t[:, 0] ^ t[:, 1]) & na) | ((t[:, 2] ^ t[:, 3]) & a))
    return dt, da, db


def _tables(t: Any, n_gates: int) -> Any:
    return t.reshape(n_gates, 4, t.shape[-1])


@functools.lru_cache(maxsize=64)
def _fan_in_table(layer: LutLayerSpec) -> np.ndarray:
    """For each input wire, the rows of ``concat(da, db)`` that read it
    (``-1`` padded): the transpose of the wiring, for XOR-scatter."""
    ins = layer.wiring
    return fan_in(np.concatenate(ins[:-1]), ins[-1], layer.n_in)


def _mux(v: Any, xs: list[Any]) -> Any:
    """Tables ``v (g, 2^m, w)`` read at inputs ``xs`` (``m`` words ``(g, w)``,
    ``xs[p]`` the index's bit ``p``): a multiplexer ``lo ^ ((lo ^ hi) & x)``
    per table bit, highest first."""
    for p in reversed(range(len(xs))):
        v = v.reshape(v.shape[0], 2, 1 << p, v.shape[-1])
        v = v[:, 0] ^ ((v[:, 0] ^ v[:, 1]) & xs[p][:, None, :])
    return v[:, 0]


def _lut_k_forward(s: LutLayerSpec, t: Any, x: Any) -> tuple[tuple[Any, ...], Any]:
    tt = t.reshape(s.n_out, s.entries, t.shape[-1])
    xs = bit_order([x[i] for i in s.wiring])
    return (_mux(tt, xs),), (tt, xs)


def _lut_k_reverse(s: LutLayerSpec, res: Any, dz: Any) -> tuple[Any, Any]:
    """``R_t``: ``dz`` times the minterm each entry is; ``R_{x_p}``: ``dz``
    times the table's difference along bit ``p`` (``f|x_p=1 ^ f|x_p=0``),
    read at the other inputs; the inputs' cotangents XOR-scattered."""
    tt, xs = res
    m = dz[:, None, :]
    for x in xs:  # bit p of the entry index: the p-th concatenation
        m = jnp.concatenate([m & ~x[:, None, :], m & x[:, None, :]], axis=1)
    dxs = []
    for p in range(s.k):
        v = tt.reshape(s.n_out, -1, 2, 1 << p, tt.shape[-1])
        diff = (v[:, :, 0] ^ v[:, :, 1]).reshape(s.n_out, -1, tt.shape[-1])
        dxs.append(dz & _mux(diff, xs[:p] + xs[p + 1 :]))
    dx = B.xor_gather_sum(jnp.concatenate(bit_order(dxs)), _fan_in_table(s))
    return m.reshape(s.entries * s.n_out, -1), dx


def _lut_layer_forward(box: Any, t: Any, x: Any) -> tuple[tuple[Any, ...], Any]:
    s = LutLayerSpec.of(box)
    if s.k > 2:
        return _lut_k_forward(s, t, x)
    ia, ib = s.wiring
    tt, a, b = _tables(t, s.n_out), x[ia], x[ib]
    return (_lut(tt, a, b),), (tt, a, b)


def _lut_layer_reverse(box: Any, res: Any, dz: Any) -> tuple[Any, Any]:
    s = LutLayerSpec.of(box)
    if s.k > 2:
        return _lut_k_reverse(s, res, dz)
    tt, a, b = res
    dt, da, db = _lut_reverse(tt, a, b, dz)
    table = _fan_in_table(s)
    dx = B.xor_gather_sum(jnp.concatenate([da, db]), table)
    return dt.reshape(4 * s.n_out, -1), dx


def _lut_gate_reverse(box: Any, res: Any, dz: Any) -> tuple[Any, Any, Any]:
    t, a, b = res
    dt, da, db = _lut_reverse(t, a, b, dz)
    return dt.reshape(4, -1), da, db


def _group_sum_forward(box: Any, x: Any) -> tuple[tuple[Any, ...], Any]:
    # Bit-sliced counters on the packed words; unpacking every bit instead took
    # 774 of 790 ms per call at 2^16 examples (docs/benchmarks.md).
    return (B.group_count(x, GroupSumSpec.of(box).k).astype(jnp.float32),), None


def _no_z2_reverse() -> SemanticsError:
    return SemanticsError(
        "group_sum has no reverse derivative over Z2: its counts are integers. "
        "Fix: train the bits that feed it (cl.fit with loss=cl.losses.hamming does "
        "this), or differentiate under cl.Smooth()."
    )


def _group_sum_reverse(box: Any, res: Any, dz: Any) -> tuple[Any, ...]:
    raise _no_z2_reverse()


def _const(value: Any) -> Rule:
    word = np.full((1, 1), value, dtype=np.uint32)
    return Rule(lambda box: ((jnp.asarray(word),), None), lambda box, r, dz: (), "")


BOOLEAN_RULES: dict[str, Rule] = {
    # name: Rule(forward(box, *words) -> (words, residuals), reverse(box, res, *dz))
    "AND": Rule(
        lambda box, a, b: ((a & b,), (a, b)),
        lambda box, r, dz: (r[1] & dz, r[0] & dz),
        "R = (b dz, a dz)",
    ),
    "OR": Rule(
        lambda box, a, b: ((a | b,), (a, b)),
        lambda box, r, dz: (~r[1] & dz, ~r[0] & dz),
        "R = ((1 + b) dz, (1 + a) dz)",
    ),
    "XOR": Rule(
        lambda box, a, b: ((a ^ b,), None), lambda box, r, dz: (dz, dz), "R = (dz, dz)"
    ),
    "NOT": Rule(lambda box, a: ((~a,), None), lambda box, r, dz: (dz,), "R = dz"),
    "ZERO": _const(ZERO),
    "ONE": _const(ONES),
    "lut": Rule(
        lambda box, t, a, b: ((_lut(_tables(t, 1), a, b),), (_tables(t, 1), a, b)),
        _lut_gate_reverse,
        "polynomial LUT, see module docstring",
    ),
    "lut_layer": Rule(_lut_layer_forward, _lut_layer_reverse, "n LUTs, wiring as data"),
    "group_sum": Rule(_group_sum_forward, _group_sum_reverse, "popcount per group"),
    **BOOLEAN_WIRING_RULES,  # reshape (the identity), select (learned wiring)
    **BOOLEAN_ENCODER_RULES,  # thermometer
}


class Boolean(Functor):
    """Exact Boolean circuits over Z2, bit-packed; learning by Reverse Derivative
    Ascent. Only ``bits`` wires, except the ``real`` counts that ``group_sum``
    outputs (exact integers, as float32)."""

    RULES = BOOLEAN_RULES
    PASSES: tuple[Any, ...] = (repeat,)  # runs of one box as one step (_repeat.py)
    KINDS = ("bits",)
    DTYPE_KINDS = "biu"  # bools, or ints holding only 0 and 1
    READOUTS = ("group_sum",)  # generators whose real outputs Boolean allows
    ENCODERS = ("thermometer",)  # generators whose real inputs Boolean allows

    def check_dtype(self, dtype: Any, wire: Wire, what: str) -> str | None:
        if wire.kind == "real" and getattr(dtype, "kind", None) in tuple("biuf"):
            return None  # encoders' features; group_sum counts' cotangents
        if getattr(dtype, "kind", "") not in self.DTYPE_KINDS:
            return _not_bool(self, what, wire, dtype)
        return None

    def check_param_dtype(self, dtype: Any, wire: Wire, what: str) -> str | None:
        """Float parameters are Smooth's (relaxed logits), not bits: say how to
        turn them into Boolean ones instead of suggesting a threshold."""
        if wire.kind == "bits" and getattr(dtype, "kind", "") == "f":
            return (
                f"{what} is typed {wire!r}: {self!r} takes bits (bool), but the "
                f"array has dtype {dtype}, as Smooth parameters (relaxed logits) "
                "do. Fix: cl.discretize(diagram, params) turns Smooth params "
                "into Boolean ones (thresholding the relaxed tables)"
            )
        return self.check_dtype(dtype, wire, what)

    def check_values(self, x: Any, wire: Wire, what: str) -> str | None:
        """Integer arrays must hold bits: 0 and 1 only (bool arrays always do).
        Nothing is thresholded: a 2 or a -1 is a mistake, not a 1."""
        if wire.kind != "bits" or x.dtype.kind not in "iu" or x.size == 0:
            return None
        a = np.asarray(x)
        bad = (a != 0) & (a != 1)
        if not bad.any():
            return None
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return (
            f"{what} is typed {wire!r}, a wire of bits, but holds the value "
            f"{a[where].item()!r} at index {where} (only 0 and 1 are bits). "
            "Fix: pass a bool array, e.g. x != 0 or x > 0.5, whichever you mean"
        )

    def check_input_wire(self, wire: Wire, where: str) -> None:
        """A ``real`` input may feed an encoder (``thermometer``); a box that
        reads it otherwise is refused by :meth:`check_box`."""
        if wire.kind != "real":
            self.check_wire(wire, where)

    def check_box(self, box: Any) -> None:
        for j, wire in enumerate(box.dom.inside):
            if box.name not in self.ENCODERS:
                self.check_wire(wire, f"input {j} of box {box.name!r}")
        if box.name not in self.READOUTS:
            for j, wire in enumerate(box.cod.inside):
                self.check_wire(wire, f"output {j} of box {box.name!r}")

    # -- the API boundary: bool arrays outside, packed words inside ---------------
    # A shaped wire ``bits(c, h, w)`` is carried flat, ``(c * h * w, words)``,
    # its bits in row-major order: flattening and reshaping move no bit.
    def encode_input(self, x: Any, wire: Wire) -> Any:
        if wire.kind == "real":  # an encoder's features: one column per example
            x = jnp.asarray(x, jnp.float32).reshape(-1, wire.size).T
            pad = B.WORD * B.n_words(x.shape[1]) - x.shape[1]
            return jnp.pad(x, ((0, 0), (0, pad)))
        x = _as_bool(x, "input", wire)
        return B.pack(x.reshape(x.shape[0], wire.size))

    def encode_param(self, x: Any, wire: Wire) -> Any:
        return B.mask(_as_bool(x, "parameter", wire).reshape(wire.size))

    def decode_output(
        self, value: Any, wire: Wire, batch: int | None, batched: bool
    ) -> Any:
        if wire.kind == "real":  # group_sum counts, examples along axis 1
            out = value[:, :batch].T if batched else value[:, 0]
        elif batched and batch is not None:  # batch 0 too: (0, n), not (n,)
            out = B.unpack(value, batch).reshape(batch, *wire.shape)
        else:
            out = B.unmask(value).reshape(wire.shape)
        if batch is not None and not batched:
            out = jnp.broadcast_to(out, (batch, *out.shape))
        return out

    def encode_cotangent(self, d: Any, wire: Wire, batched: bool) -> Any:
        if wire.kind == "real":
            raise _no_z2_reverse()  # real wires are group_sum counts
        d = _as_bool(d, "cotangent", wire)
        if d.ndim > len(wire.shape):  # one per example
            return B.pack(d.reshape(d.shape[0], wire.size))
        return B.mask(d.reshape(wire.size))

    def decode_cotangent(self, d: Any, wire: Wire, batch: int | None) -> Any:
        if wire.kind == "real":  # an encoder's input: its cotangent is zero
            return d[:, :batch].T if batch is not None else d[:, 0]
        if batch is not None:
            return B.unpack(d, batch).reshape(batch, *wire.shape)
        return B.unmask(d).reshape(wire.shape)

    def decode_param_cotangent(self, d: Any, wire: Wire) -> Any:
        return B.unmask(d).reshape(wire.shape)

    def count_votes(self, d: Any) -> Any:
        return B.popcount(d)  # padding bits of a cotangent are always zero

    def init_param(self, box: Param, key: jax.Array) -> jax.Array:
        shape, init = box.cod.inside[0].shape, ParamSpec.of(box).init
        if init == "residual":  # every 2-input table passes its first input
            return jnp.tile(jnp.array([False, False, True, True]), shape[0] // 4)
        if init in ("zeros", "ones"):
            return jnp.full(shape, init == "ones")
        return jax.random.bernoulli(key, 0.5, shape)

    # -- the layout: examples packed along the last axis ---------------------------
    def value_shape(
        self, wire: Wire, batched: bool, batch: int | None
    ) -> tuple[int | None, ...]:
        """Bits: ``(n, words)`` batched, a mask ``(n, 1)`` unbatched; the real
        counts of ``group_sum``: ``(k, 32 * words)`` (any width unbatched).
        A shaped wire is carried flat: ``n`` is its number of bits."""
        n = wire.size
        words = B.n_words(batch or 0)
        if wire.kind == "real":
            return (n, B.WORD * words) if batched else (n, None)
        return (n, words) if batched else (n, 1)

    def per_example_shape(
        self, like: tuple[int, ...], batch: int
    ) -> tuple[int | None, ...]:
        return (like[0], B.n_words(batch))

    # -- Z2: cotangents add by XOR; copying to every example sums by parity ------
    def add(self, a: Any, b: Any) -> Any:
        if jnp.issubdtype(a.dtype, jnp.floating):  # an encoder input's cotangents
            return a + b
        return a ^ b

    def sum_batch(self, d: Any, like: Any) -> Any:
        return B.parity(d)


def _not_bool(functor: Any, what: str, wire: Wire, dtype: Any) -> str:
    return (
        f"{functor!r} takes bool arrays, but the {what} for {wire!r} has dtype "
        f"{dtype}. Fix: pass x.astype(bool) (or 0/1 integers); threshold "
        "floats yourself, e.g. x > 0.5"
    )


def _as_bool(x: Any, what: str, wire: Wire) -> Any:
    # Integer values were checked to be 0/1 at the API boundary
    # (Boolean.check_values); traced ones are taken as they come.
    x = jnp.asarray(x)
    if x.dtype == jnp.bool_:
        return x
    if jnp.issubdtype(x.dtype, jnp.integer):
        return x != 0
    raise SemanticsError(_not_bool("Boolean()", what, wire, x.dtype) + ".")
