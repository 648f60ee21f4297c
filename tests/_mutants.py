"""Deliberately wrong rules: the mutants that tests/test_mutants.py proves the
law checkers reject, with default settings, through
``catlearn.testing.check_functor`` and through ``catlearn laws --functor
_mutants:NAME``.

Each mutant is one functor: a shipped semantics with one rule (or one fused
kernel rule) replaced by a wrong version of it. Every kind of mistake the
issue names is here: sign flips, dropped terms, a transposed weight, wrong
shapes, swapped cotangents, off-by-one wiring, wrong Z2 rules, a Boolean rule
right on 0 but wrong on 1, a forward pass that disagrees with the other
semantics, and the lut_layer bug that shipped (a parameter-only input read as
a batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import jax
import jax.numpy as jnp

import catlearn as cl
from catlearn.backends import bits as B
from catlearn.functors import (
    _boolean,
    _encoder_rules,
    _kernel,
    _smooth_logic,
    _wiring_rules,
    repeat,
)
from catlearn.functors._repeat import Repeated, Stacked
from catlearn.logic import wiring

Rule = cl.Rule


@dataclass(frozen=True)
class Mutant:
    name: str
    functor: cl.Functor
    what: str  # the mistake, in words


MUTANTS: list[Mutant] = []


def mutant(name: str, functor: cl.Functor, what: str) -> None:
    MUTANTS.append(Mutant(name, functor, what))
    globals()[name] = functor  # for catlearn laws --functor _mutants:NAME


def unary(fn: Any, rev: Any) -> Rule:
    """An elementwise rule; ``rev(x, y, dy)``."""
    return Rule(lambda box, x: ((fn(x),), (x, fn(x))),
                lambda box, r, dy: (rev(r[0], r[1], dy),))


S, Bo = cl.Smooth(), cl.Boolean()

# -- Smooth ---------------------------------------------------------------------------
mutant("smooth_tanh_identity", S.extend({"tanh": unary(
    jnp.tanh, lambda x, y, dy: dy)}), "tanh reverse = dy (the term 1 - y^2 dropped)")
def relu(x: Any) -> Any:
    return jnp.maximum(x, 0)


mutant("smooth_relu_times_y", S.extend({"relu": unary(
    relu, lambda x, y, dy: dy * y)}),
    "relu reverse = dy * y instead of dy [x > 0]")
mutant("smooth_sigmoid_sign", S.extend({"sigmoid": unary(
    lambda x: 1 / (1 + jnp.exp(-x)), lambda x, y, dy: -dy * y * (1 - y))}),
    "sigmoid reverse with its sign flipped")
mutant("smooth_softmax_dropped_term", S.extend({"softmax": unary(
    lambda x: jnp.exp(x) / jnp.sum(jnp.exp(x), -1, keepdims=True),
    lambda x, y, dy: y * dy)}), "softmax reverse without - <dy, y>")
mutant("smooth_relu_wrong_shape", S.extend({"relu": unary(
    relu, lambda x, y, dy: jnp.sum(dy * (x > 0), axis=-1, keepdims=True))}),
    "relu reverse summed over the features: a (batch, 1) cotangent")


def _matmul_transposed(box: Any, r: Any, dy: Any) -> Any:
    w, x = r
    return jnp.einsum("...i,...o->...io", x, dy).sum(0) if x.ndim > 1 else \
        jnp.outer(x, dy), dy @ w  # dx = dy w, not dy w^T


mutant("smooth_matmul_transposed_weight", S.extend({"matmul": Rule(
    lambda box, w, x: ((x @ w,), (w, x)), _matmul_transposed)}),
    "matmul reverse dx = dy @ w (the weight not transposed)")
mutant("smooth_mul_swapped", S.extend({"mul": Rule(
    lambda box, a, b: ((a * b,), (a, b)),
    lambda box, r, dy: (dy * r[0], dy * r[1]))}),
    "mul reverse with the cotangents swapped: (dy a, dy b)")
mutant("smooth_add_dropped", S.extend({"add": Rule(
    lambda box, a, b: ((a + b,), None), lambda box, r, dy: (dy, None))}),
    "add reverse drops the second input's cotangent")
mutant("smooth_and_swapped", S.extend({"AND": Rule(
    lambda box, a, b: ((a * b,), (a, b)),
    lambda box, r, dz: (dz * r[0], dz * r[1]))}),
    "relaxed AND reverse with the cotangents swapped")
mutant("smooth_not_sign", S.extend({"NOT": Rule(
    lambda box, a: ((1 - a,), None), lambda box, r, dz: (dz,))}),
    "relaxed NOT reverse = dz instead of -dz")
mutant("smooth_xor_as_or", S.extend({"XOR": Rule(
    lambda box, a, b: ((a + b - a * b,), (a, b)),
    lambda box, r, dz: (dz * (1 - r[1]), dz * (1 - r[0])))}),
    "relaxed XOR computed as OR (forward and reverse consistent): a wrong meaning")
mutant("smooth_group_sum_no_tau", S.extend({"group_sum": Rule(
    _smooth_logic._group_sum_forward,
    lambda box, size, dz: (jnp.repeat(dz, size, axis=-1),))}),
    "group_sum reverse forgets the 1 / tau")


def _shipped_lut_layer_reverse(box: Any, res: Any, dz: Any) -> Any:
    """The rule that shipped: it told per-example tables from shared ones by
    ``w.ndim`` and summed over axis 0, the gates when the input had no batch."""
    sp = box.spec
    s, aux, a, b = res
    m = _smooth_logic._minterms(a, b)
    dt = jnp.stack([jnp.sum(dz * mi, axis=0) for mi in m], axis=-1)
    if s.ndim > 2:
        dt = jnp.stack([dz * mi for mi in m], axis=-1)
    s0, s1, s2, s3 = (s[..., i] for i in range(4))
    da = dz * ((s2 - s0) * (1 - b) + (s3 - s1) * b)
    db = dz * ((s1 - s0) * (1 - a) + (s3 - s2) * a)
    ia, ib = wiring(sp["n_in"], sp["n_out"], sp["seed"])
    dx = jnp.zeros((*dz.shape[:-1], sp["n_in"]), dz.dtype)
    dx = dx.at[..., ia].add(da).at[..., ib].add(db)
    return _smooth_logic.pullback(sp["relax"], aux, dt), dx


LUT_LAYER = S.rules["lut_layer"]
mutant("smooth_lut_layer_param_only_input", S.extend({"lut_layer": Rule(
    LUT_LAYER.forward, _shipped_lut_layer_reverse, keyed=True)}),
    "the shipped bug: a parameter-only input read as a batch (sum over gates)")


def _lut_layer_off_by_one(box: Any, res: Any, dz: Any) -> Any:
    dw, dx = LUT_LAYER.reverse(box, res, dz)
    return dw, jnp.roll(dx, 1, axis=-1)  # cotangents scattered one wire over


mutant("smooth_lut_layer_off_by_one", S.extend({"lut_layer": Rule(
    LUT_LAYER.forward, _lut_layer_off_by_one, keyed=True)}),
    "lut_layer reverse scatters each gate's input cotangent one wire over")


def _lut_reverse_swapped(box: Any, res: Any, dz: Any) -> Any:
    dw, da, db = S.rules["lut"].reverse(box, res, dz)
    return dw, db, da


mutant("smooth_lut_inputs_swapped", S.extend({"lut": Rule(
    S.rules["lut"].forward, _lut_reverse_swapped, keyed=True)}),
    "a 2-input LUT's reverse returns (db, da)")


def _softmax_pullback_wrong(box: Any, res: Any, dz: Any) -> Any:
    s, aux, a, b = res
    if box.spec["relax"] != "softmax":
        return LUT_LAYER.reverse(box, res, dz)
    dt, da, db = _smooth_logic._lut_reverse(s, a, b, dz)
    dw = (dt @ _smooth_logic.GATES.T) * aux  # the softmax Jacobian's - p <dp, p>
    ia, ib = wiring(box.spec["n_in"], box.spec["n_out"], box.spec["seed"])
    dx = jnp.zeros((*da.shape[:-1], box.spec["n_in"]), da.dtype)
    dx = dx.at[..., ia].add(da).at[..., ib].add(db)
    return dw.reshape(*dw.shape[:-2], -1), dx


mutant("smooth_softmax_table_dropped_term", S.extend({"lut_layer": Rule(
    LUT_LAYER.forward, _softmax_pullback_wrong, keyed=True)}),
    "16-gate softmax tables: the pullback drops the softmax's - p <dp, p> term")

# -- Boolean --------------------------------------------------------------------------
mutant("boolean_or_right_on_0", Bo.extend({"OR": Rule(
    lambda box, a, b: ((a | b,), (a, b)),
    lambda box, r, dz: (dz, ~r[0] & dz))}),
    "OR reverse R_a = dz: right where b = 0, wrong where b = 1")
mutant("boolean_and_wrong_on_1", Bo.extend({"AND": Rule(
    lambda box, a, b: ((a & b,), (a, b)),
    lambda box, r, dz: (r[1] & dz, ~r[0] & dz))}),
    "AND reverse R_b = ~a dz: right where a = 0, wrong where a = 1")
mutant("boolean_xor_dropped", Bo.extend({"XOR": Rule(
    lambda box, a, b: ((a ^ b,), None), lambda box, r, dz: (dz, None))}),
    "XOR reverse drops the second input's cotangent")
mutant("boolean_not_flips", Bo.extend({"NOT": Rule(
    lambda box, a: ((~a,), None), lambda box, r, dz: (~dz,))}),
    "NOT reverse = ~dz (a wrong Z2 rule: not linear)")
mutant("boolean_and_as_or", Bo.extend({"AND": Rule(
    lambda box, a, b: ((a | b,), (a, b)),
    lambda box, r, dz: (~r[1] & dz, ~r[0] & dz))}),
    "AND computed as OR (forward and reverse consistent): a wrong meaning")


def _layer_shifted_forward(box: Any, t: Any, x: Any) -> Any:
    s = box.spec
    ia, ib = wiring(s["n_in"], s["n_out"], s["seed"])
    ia = (ia + 1) % s["n_in"]
    tt = _boolean._tables(t, s["n_out"])
    a, b = x[ia], x[ib]
    return (_boolean._lut(tt, a, b),), (tt, a, b, ia, ib)


def _layer_shifted_reverse(box: Any, res: Any, dz: Any) -> Any:
    tt, a, b, ia, ib = res
    dt, da, db = _boolean._lut_reverse(tt, a, b, dz)
    dx = jnp.zeros((box.spec["n_in"], dz.shape[-1]), dz.dtype)
    for g in range(len(ia)):
        dx = dx.at[ia[g]].set(dx[ia[g]] ^ da[g]).at[ib[g]].set(dx[ib[g]] ^ db[g])
    return dt.reshape(4 * box.spec["n_out"], -1), dx


mutant("boolean_lut_layer_off_by_one", Bo.extend({"lut_layer": Rule(
    _layer_shifted_forward, _layer_shifted_reverse)}),
    "lut_layer wiring off by one, forward and reverse consistent: a wrong meaning")


def _layer_minterms_swapped(box: Any, res: Any, dz: Any) -> Any:
    dt, dx = Bo.rules["lut_layer"].reverse(box, res, dz)
    rows = dt.reshape(box.spec["n_out"], 4, -1)
    return rows[:, [0, 2, 1, 3]].reshape(4 * box.spec["n_out"], -1), dx


mutant("boolean_lut_layer_minterms_swapped", Bo.extend({"lut_layer": Rule(
    Bo.rules["lut_layer"].forward, _layer_minterms_swapped)}),
    "lut_layer table cotangents for minterms 01 and 10 swapped")


def _lut_gate_wrong(box: Any, res: Any, dz: Any) -> Any:
    t, a, b = res
    dt, da, db = _boolean._lut_reverse(t, a, b, dz)
    da = dz & (((t[:, 1] ^ t[:, 2]) & ~b) | ((t[:, 1] ^ t[:, 3]) & b))
    return dt.reshape(4, -1), da, db


mutant("boolean_lut_gate_wrong_partial", Bo.extend({"lut": Rule(
    Bo.rules["lut"].forward, _lut_gate_wrong)}),
    "a 2-input LUT's R_a reads t01 ^ t10 where it should read t00 ^ t10")
mutant("boolean_one_is_zero", Bo.extend({"ONE": Rule(
    lambda box: ((jnp.zeros((1, 1), jnp.uint32),), None), lambda box, r, dz: ())}),
    "the constant ONE computes 0")
mutant("boolean_group_sum_off_by_one", Bo.extend({"group_sum": Rule(
    lambda box, x: ((B.group_count(x, box.spec["k"]).astype(jnp.float32) + 1,),
                    None), Bo.rules["group_sum"].reverse)}),
    "group_sum counts one too many")


# -- Kernel: the fused rules -----------------------------------------------------------
class _KernelWrongForward(cl.BooleanKernel):
    """The fused kernel's output with its first bit flipped."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def forward(box: Any, *ins: Any) -> Any:
            (y,), res = rule.forward(box, *ins)
            return (y.at[0].set(~y[0]) if y.dtype == jnp.uint32 else y + 1,), res

        return Rule(forward, rule.reverse)


class _KernelVotesOffByOne(cl.BooleanKernel):
    """The fused reverse kernel counts one vote too many for every table bit."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def reverse(box: Any, res: Any, dz: Any) -> Any:
            *counts, dx = rule.reverse(box, res, dz)
            return (*(_kernel.Counts(c.n + 1) for c in counts), dx)

        return Rule(rule.forward, reverse)


mutant("kernel_fused_forward_flipped", _KernelWrongForward(backend="interpret"),
       "fused kernel forward flips the first output bit")
mutant("kernel_fused_votes_off_by_one", _KernelVotesOffByOne(backend="interpret"),
       "fused reverse kernel counts one vote too many")
mutant("kernel_and_as_or", cl.Kernel(backend="interpret").extend({"AND": Rule(
    lambda box, a, b: ((a | b,), (a, b)),
    lambda box, r, dz: (~r[1] & dz, ~r[0] & dz))}),
    "Kernel's AND computed as OR, consistently: caught against Boolean's AND")


# -- RelaxedKernel: the fused relaxed rule ---------------------------------------------
class _RelaxedDxSign(cl.RelaxedKernel):
    """The fused relaxed reverse returns -dx."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def reverse(box: Any, res: Any, dz: Any) -> Any:
            *dws, dx = rule.reverse(box, res, dz)
            return (*dws, -dx)

        return Rule(rule.forward, reverse, keyed=True)


class _RelaxedTablesDoubled(cl.RelaxedKernel):
    """The fused relaxed reverse doubles the table cotangents."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def reverse(box: Any, res: Any, dz: Any) -> Any:
            *dws, dx = rule.reverse(box, res, dz)
            return (*(2 * d for d in dws), dx)

        return Rule(rule.forward, reverse, keyed=True)


class _RelaxedForwardScaled(cl.RelaxedKernel):
    """The fused relaxed forward halves its output (its reverse unchanged)."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def forward(box: Any, *ins: Any, key: Any = None) -> Any:
            (y,), res = rule.forward(box, *ins, key=key)
            return (0.5 * y,), res

        return Rule(forward, rule.reverse, keyed=True)


class _RelaxedOrAsXor(cl.RelaxedKernel):
    """The fixed OR layers of a fused chain (an or_pool linked into it) read
    the table of XOR."""

    def fused_rule(self, box: Any) -> Rule:
        from catlearn.functors import _fuse

        shipped = _fuse.OrGates.TABLE
        _fuse.OrGates.TABLE = (0.0, 1.0, 1.0, 0.0)  # read when the rule is made
        try:
            return super().fused_rule(box)
        finally:
            _fuse.OrGates.TABLE = shipped


class _RelaxedReadoutShifted(cl.RelaxedKernel):
    """A fused chain's absorbed group_sum hands each class the next group's
    count (its reverse unchanged)."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def forward(box: Any, *ins: Any, key: Any = None) -> Any:
            (y,), res = rule.forward(box, *ins, key=key)
            return ((jnp.roll(y, 1, axis=-1) if box.group else y),), res

        return Rule(forward, rule.reverse, keyed=True)


mutant("relaxed_kernel_readout_shifted", _RelaxedReadoutShifted(),
       "a fused chain's group_sum read-out gives each class the next group's count")
mutant("relaxed_kernel_or_link_as_xor", _RelaxedOrAsXor(),
       "a fused chain's linked or_pool computes XOR (forward and reverse agree)")
mutant("relaxed_kernel_dx_sign", _RelaxedDxSign(),
       "fused relaxed reverse: input cotangent with its sign flipped")
mutant("relaxed_kernel_tables_doubled", _RelaxedTablesDoubled(),
       "fused relaxed reverse: table cotangents doubled")
mutant("relaxed_kernel_forward_halved", _RelaxedForwardScaled(),
       "fused relaxed forward halves the output")


def _passes_dy_through(name: str) -> cl.Functor:
    """A jax.nn activation whose reverse forgets its derivative: dx = dy."""
    from catlearn.functors._smooth import JAX_NN

    return S.extend({name: Rule(JAX_NN[name].forward, lambda box, x, dy: (dy,))})


for _name in ("gelu", "silu", "softplus", "elu", "leaky_relu", "log_softmax"):
    mutant(f"smooth_{_name}_reverse_is_dy", _passes_dy_through(_name),
           f"{_name} reverse passes dy through (its derivative forgotten)")


def _layer_norm_drops_shift() -> cl.Functor:
    rule = S.rules["layer_norm"]

    def reverse(box: Any, r: Any, dy: Any) -> Any:
        dg, db, dx = rule.reverse(box, r, dy)
        return dg, jnp.zeros_like(db), dx

    return S.extend({"layer_norm": Rule(rule.forward, reverse)})


def _embedding_one_row_over() -> cl.Functor:
    rule = S.rules["embedding"]

    def reverse(box: Any, r: Any, dy: Any) -> Any:
        dtable, dids = rule.reverse(box, r, dy)
        return jnp.roll(dtable, 1, axis=0), dids

    return S.extend({"embedding": Rule(rule.forward, reverse)})


def _dropout_unmasked() -> cl.Functor:
    """dropout's reverse forgets its mask (right in evaluation, wrong in
    training: only the keyed check sees it)."""
    rule = S.rules["dropout"]

    def reverse(box: Any, scale: Any, dy: Any) -> Any:
        return (dy,)

    return S.extend({"dropout": Rule(rule.forward, reverse, keyed=True)})


class _ScanParamsHalved(cl.Smooth):
    """The recurrent box's scanned reverse halves the cotangent of the
    weights its steps share (as if it averaged two steps' instead of adding)."""

    def recurrent_rule(self, box: Any) -> Rule:
        rule = super().recurrent_rule(box)
        k = len(cl.diagrams.RecurrentSpec.of(box).params)

        def reverse(box: Any, r: Any, dy: Any) -> Any:
            d = rule.reverse(box, r, dy)
            return tuple(v * 0.5 if i < k else v for i, v in enumerate(d))

        return Rule(rule.forward, reverse, rule.doc, rule.keyed)


mutant("smooth_scan_params_halved", _ScanParamsHalved(),
       "the recurrent box's scanned reverse halves the shared weights' cotangent")
mutant("smooth_dropout_unmasked", _dropout_unmasked(),
       "dropout reverse passes dy through, ignoring the mask it drew")
mutant("smooth_layer_norm_drops_shift", _layer_norm_drops_shift(),
       "layer_norm reverse forgets the shift's cotangent")
mutant("smooth_embedding_one_row_over", _embedding_one_row_over(),
       "embedding reverse adds each cotangent to the next row of the table")


def _equinox_params_doubled() -> cl.Functor:
    """The equinox box's reverse doubles the parameters' cotangents."""
    from catlearn.functors import _eqx_rules

    rule = _eqx_rules.EQUINOX_RULES["equinox"]

    def reverse(box: Any, res: Any, *dys: Any) -> Any:
        n = cl.diagrams.EquinoxSpec.of(box).params
        ds = rule.reverse(box, res, *dys)
        return (*(2 * d for d in ds[:n]), *ds[n:])

    return S.extend({"equinox": Rule(rule.forward, reverse)})


mutant("smooth_equinox_params_doubled", _equinox_params_doubled(),
       "an equinox module's reverse doubles its parameters' cotangents")


class _SmoothFusedDxSign(cl.Smooth):
    """Smooth's own fused LUT chains (its default pass): the reverse returns
    -dx. Caught by the jax oracle (jax.vjp differentiates the fused forward
    itself), with no Kernel involved."""

    def fused_rule(self, box: Any) -> Rule:
        rule = super().fused_rule(box)

        def reverse(box: Any, res: Any, dz: Any) -> Any:
            *dws, dx = rule.reverse(box, res, dz)
            return (*dws, -dx)

        return Rule(rule.forward, reverse, keyed=True)


mutant("smooth_fused_dx_sign", _SmoothFusedDxSign(),
       "Smooth's fused LUT chain: input cotangent with its sign flipped")


# -- the repeat pass: a chain or a layer of one generator run as one step ----------
def _wrong_pass(change: Any) -> Any:
    """The shipped repeat pass, then ``change`` applied to each step it made."""

    def wrong_repeat(prog: Any) -> Any:
        prog = repeat(prog)
        steps = [change(st) if isinstance(st.box, Repeated | Stacked) else st
                 for st in prog.steps]
        return cl.Program(prog.functor, prog.diagram, prog.slots, steps,
                          prog.n_inputs, prog.param_slots, prog.outputs)

    return wrong_repeat


def _one_more(st: Any) -> Any:
    if not isinstance(st.box, Repeated):
        return st
    return replace(st, box=Repeated(st.box.box, st.box.k + 1, st.box.members))


def _cotangents_reversed(st: Any) -> Any:
    if not isinstance(st.box, Stacked):
        return st
    rule = st.rule
    return replace(st, rule=Rule(
        rule.forward, lambda box, r, *dys: tuple(rule.reverse(box, r, *dys))[::-1]))


def _outputs_reversed(st: Any) -> Any:
    return replace(st, outs=st.outs[::-1]) if isinstance(st.box, Stacked) else st


def _chain_reverse_dropped(st: Any) -> Any:
    if not isinstance(st.box, Repeated):
        return st
    return replace(st, rule=Rule(st.rule.forward, lambda box, r, dy: (None,)))


class _SmoothChainOneMore(cl.Smooth):
    """Scans a chain of k steps k + 1 times."""

    PASSES = (_wrong_pass(_one_more),)


class _SmoothLayerCotangentsReversed(cl.Smooth):
    """A layer's input cotangents come back in the reverse order."""

    PASSES = (_wrong_pass(_cotangents_reversed),)


class _BooleanLayerOutputsReversed(cl.Boolean):
    """A layer writes its members' outputs in the reverse order."""

    PASSES = (_wrong_pass(_outputs_reversed),)


class _BooleanChainReverseDropped(cl.Boolean):
    """A chain's reverse returns the zero cotangent."""

    PASSES = (_wrong_pass(_chain_reverse_dropped),)


mutant("smooth_repeat_chain_one_more", _SmoothChainOneMore(),
       "repeat pass: a chain's forward scans one step too many")
mutant("smooth_repeat_layer_cotangents_reversed", _SmoothLayerCotangentsReversed(),
       "repeat pass: a layer's reverse gives the members' cotangents reversed")
mutant("boolean_repeat_layer_outputs_reversed", _BooleanLayerOutputsReversed(),
       "repeat pass: a layer's forward writes the members' outputs reversed")
mutant("boolean_repeat_chain_reverse_dropped", _BooleanChainReverseDropped(),
       "repeat pass: a chain's reverse returns zero")

# -- the wiring generators: reshape, select (learned wiring), tile, or_pool -----------
W = _wiring_rules
mutant("smooth_reshape_reverse_reversed", S.extend({"reshape": Rule(
    W.SMOOTH_RESHAPE.forward,
    lambda box, r, dy: (W.SMOOTH_RESHAPE.reverse(box, r, dy)[0][..., ::-1],))}),
    "reshape reverse gives the cotangent's last axis reversed")
mutant("boolean_reshape_reversed", Bo.extend({"reshape": Rule(
    lambda box, x: ((x[::-1],), None), lambda box, r, dy: (dy[::-1],))}),
    "reshape moves the bits (reversed), forward and reverse consistent")


def _select_bits_dropped(box: Any, res: Any, dy: Any) -> Any:
    dt, dx = _wiring_rules.SMOOTH_SELECT.reverse(box, res, dy)
    return jnp.zeros_like(dt), dx


mutant("smooth_select_index_cotangent_dropped", S.extend({"select": Rule(
    _wiring_rules.SMOOTH_SELECT.forward, _select_bits_dropped)}),
    "select reverse drops the index bits' cotangent")


def _select_no_difference(box: Any, res: Any, dy: Any) -> Any:
    """d bit_b = dy x[i ^ 2^b], the term x[i] dropped."""
    idx, xs, spec = _wiring_rules._unpacked(box, *res)
    d = _wiring_rules._columns(B.unpack_rows(dy), idx.shape[1])
    dbits = jnp.stack([d & jnp.take_along_axis(xs, idx ^ (1 << b), axis=0)
                       for b in range(spec.w)], axis=1)
    _, dx = _wiring_rules.BOOLEAN_SELECT.reverse(box, res, dy)
    return B.pack_rows(dbits.reshape(spec.n_sel * spec.w, -1)), dx


mutant("boolean_select_index_reverse_wrong", Bo.extend({"select": Rule(
    _wiring_rules.BOOLEAN_SELECT.forward, _select_no_difference)}),
    "select reverse for index bit b reads x[i ^ 2^b] without XOR x[i]")

mutant("smooth_tile_reverse_first_copy", S.extend({"tile": Rule(
    _wiring_rules.SMOOTH_TILE.forward,
    lambda box, r, dy: (dy.reshape(*dy.shape[:dy.ndim - len(box.cod.inside[0].shape)],
                                   *box.cod.inside[0].shape)[..., 0, :],))}),
    "tile reverse keeps the first copy's cotangent instead of the sum")
mutant("boolean_tile_reverse_or", Bo.extend({"tile": Rule(
    _wiring_rules.BOOLEAN_TILE.forward,
    lambda box, r, dy: (jnp.bitwise_or.reduce(
        dy.reshape(2, -1, dy.shape[-1]), axis=0),))}),
    "tile reverse ORs the copies' cotangents where Z2 XORs them")
mutant("smooth_or_pool_as_max", S.extend({"or_pool": Rule(
    lambda box, x: ((jnp.max(cl.diagrams.windows(
        box, x, x.shape[: x.ndim - len(box.dom.inside[0].shape)]), axis=-1),), x),
    _wiring_rules.SMOOTH_OR_POOL.reverse)}),
    "relaxed or_pool forward is the max (its reverse the product t-conorm's)")
mutant("boolean_or_pool_reverse_dy", Bo.extend({"or_pool": Rule(
    _wiring_rules.BOOLEAN_OR_POOL.forward,
    lambda box, x, dy: (jnp.broadcast_to(dy, x.shape) if x.shape[0] == 1 else
                        jnp.repeat(dy, x.shape[0] // dy.shape[0], axis=0),))}),
    "or_pool reverse passes dy to every input of the window")



def _thermometer_no_tau(box: Any, res: Any, dy: Any) -> Any:
    x, y = res
    return (jnp.sum(dy.reshape(y.shape) * y * (1 - y), axis=-1),)


def _thermometer_at_least(box: Any, x: Any) -> Any:
    t = jnp.asarray(box.typed_spec.thresholds, jnp.float32)
    rows = (x[:, None, :] >= t[:, :, None]).reshape(-1, x.shape[1])
    return (B.pack_rows(rows.astype(jnp.int32)),), x.shape


mutant("smooth_thermometer_no_tau", S.extend({"thermometer": Rule(
    _encoder_rules.SMOOTH_ENCODER_RULES["thermometer"].forward, _thermometer_no_tau)}),
    "relaxed thermometer reverse forgets the 1 / tau")
mutant("boolean_thermometer_at_least", Bo.extend({"thermometer": Rule(
    _thermometer_at_least,
    _encoder_rules.BOOLEAN_ENCODER_RULES["thermometer"].reverse)}),
    "thermometer compares x >= t where it means x > t")


# -- lut layers of k > 2 inputs ------------------------------------------------------
SL, BL = _smooth_logic.LOGIC_RULES["lut_layer"], _boolean.BOOLEAN_RULES["lut_layer"]


def _k_smooth_last_input_dropped(box: Any, res: Any, dz: Any) -> Any:
    dw, dx = SL.reverse(box, res, dz)
    spec = cl.diagrams.LutLayerSpec.of(box)
    if spec.k > 2:  # the last input's share of dx dropped
        _, pull = jax.vjp(
            lambda x: _smooth_logic._lut_k(spec, res[0], x), res[1])
        dx = dx - pull(dz)[0] * (jnp.arange(spec.n_in) == spec.wiring[-1][0])
    return dw, dx


def _k_boolean_wrong_difference(box: Any, res: Any, dz: Any) -> Any:
    spec = cl.diagrams.LutLayerSpec.of(box)
    if spec.k == 2:
        return BL.reverse(box, res, dz)
    tt, xs = res
    dt, _ = _boolean._lut_k_reverse(spec, res, dz)
    dxs = []
    for p in range(spec.k):  # the difference along bit p + 1 (mod k)
        q = (p + 1) % spec.k
        v = tt.reshape(spec.n_out, -1, 2, 1 << q, tt.shape[-1])
        diff = (v[:, :, 0] ^ v[:, :, 1]).reshape(spec.n_out, -1, tt.shape[-1])
        dxs.append(dz & _boolean._mux(diff, xs[:q] + xs[q + 1:]))
    dx = B.xor_gather_sum(jnp.concatenate(_smooth_logic.bit_order(dxs)),
                          _boolean._fan_in_table(spec))
    return dt, dx


mutant("smooth_lut_k_input_cotangent_dropped", S.extend({"lut_layer": Rule(
    SL.forward, _k_smooth_last_input_dropped, keyed=True)}),
    "k-input lut layer reverse drops the cotangent of the wire gate 0 reads last")
mutant("boolean_lut_k_wrong_difference", Bo.extend({"lut_layer": Rule(
    BL.forward, _k_boolean_wrong_difference)}),
    "k-input lut layer: R_{x_p} reads the table's difference along bit p + 1")

# -- sort and the softmax select ------------------------------------------------------
mutant("smooth_sort_reverse_reversed", S.extend({"sort": Rule(
    W.SMOOTH_SORT.forward,
    lambda box, x, dy: W.SMOOTH_SORT.reverse(box, x, dy[..., ::-1]))}),
    "relaxed sort reverse reads the output cotangents in reverse order")


def _sort_count_with_self(box: Any, x: Any, dy: Any) -> Any:
    c, xs = W._counts(x)  # dy at the count of all inputs, x_i included
    d = jnp.pad(B.unpack_rows(dy), ((0, 1), (0, 0)))
    return (B.pack_rows(jnp.take_along_axis(d, jnp.broadcast_to(c, xs.shape), 0)),)


mutant("boolean_sort_reverse_own_count", Bo.extend({"sort": Rule(
    W.BOOLEAN_SORT.forward, _sort_count_with_self)}),
    "sort reverse: dx_i = dy at the count of all inputs, x_i's own bit included")


def _softmax_uncentred(box: Any, res: Any, dy: Any) -> Any:
    spec = cl.diagrams.SelectSpec.of(box)
    dtheta, dx = W.SMOOTH_SELECT.reverse(box, res, dy)
    if spec.relax != "softmax":
        return dtheta, dx
    theta, x = res  # dtheta = p dP, the softmax's - p <dP, p> term dropped
    p = jax.nn.softmax(theta, axis=-1)
    dp = jnp.einsum("...s,...i->...si", dy, x)
    dp = jnp.pad(dp, [(0, 0)] * (dp.ndim - 1) + [(0, p.shape[-1] - spec.n_in)])
    lead = dp.ndim - p.ndim
    return jnp.sum(p * dp, axis=tuple(range(lead))), dx


mutant("smooth_select_softmax_uncentred", S.extend({"select": Rule(
    W.SMOOTH_SELECT.forward, _softmax_uncentred)}),
    "softmax select reverse drops the softmax's - p <dp, p> term")


NAMES = [m.name for m in MUTANTS]
assert len(set(NAMES)) == len(NAMES), "two mutants share a name"
