"""A whole request: prefill (its first token), then ``output_len − 1`` decode steps with a
growing context, on any layout: latency = TTFT + Σ TPOT(context), as serving benchmarks
count it.

Summing the step times one by one would cost one pass per token. Instead, each operator's
FLOPs and bytes are affine in the context within a region (regions end where a sliding
window fills), so its time max(FLOPs/peak, bytes/bandwidth) is the upper envelope of
affine functions and its sum over the integer contexts has a closed form. Two passes per
region give the exact sum (tested against the step-by-step sum).

A measured efficiency table (``roofs.calibration``) breaks that assumption: an operator's
calibrated time interpolates measured efficiencies in log(context) and adds a fixed
overhead. The expected sum then adds the steps one by one when a region has at most
``STEP_BY_STEP_LIMIT`` of them, and otherwise samples ``SAMPLED_CONTEXTS`` evenly spaced
contexts and sums the piecewise-linear interpolant over every integer context (exact for
the context-independent operators; the ideal sum keeps its closed form).

On a layout with pipeline stages or several micro-batches a decode step is the pipeline's
steady-state step (max of the bottleneck's busy time and the sum over stages, engine/
pipeline.py), no longer a sum of operator times: it is then sampled at ``SAMPLED_CONTEXTS``
contexts per region (both sums), summed as the piecewise-linear interpolant.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..inputs import xp
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from ..inputs.xp import Number
from . import compiled
from .compiled import priced_operators
from .ops import OpCost, decode_pass
from .pipeline import steady_times
from .report import Request
from .sharding import micro_batch_sizes, stage_operators
from .timing import Roofs

STEP_BY_STEP_LIMIT = 64  # regions of at most this many decode steps are summed exactly
SAMPLED_CONTEXTS = 17  # contexts sampled in a longer region (both ends included)


def sum_affine_max(lines: Sequence[tuple[float, float]], lo: int, hi: int) -> float:
    """Σ over integers x in [lo, hi] of max_i (a_i + b_i·x), exactly (up to rounding)."""
    if len(lines) == 2 and lines[0][1] == lines[1][1] == 0.0:  # constant in x (most ops)
        return (hi - lo + 1) * max(lines[0][0], lines[1][0])
    cuts = {lo, hi + 1}
    for i, (a1, b1) in enumerate(lines):
        for a2, b2 in lines[i + 1 :]:
            if b1 != b2:
                x = (a2 - a1) / (b1 - b2)
                if lo < x < hi:
                    cuts.add(int(x) + 1)  # split just after the crossing
    edges = sorted(cuts)
    total = 0.0
    for start, stop in itertools.pairwise(edges):  # integers start .. stop-1
        mid = (start + stop - 1) / 2
        a, b = max(lines, key=lambda ab: ab[0] + ab[1] * mid)
        n = stop - start
        total += n * a + b * n * mid  # Σ (a + b·x) = n·a + b·n·mean(x)
    return total


def _op_lines(
    lo_op: OpCost, hi_op: OpCost, lo: int, hi: int, roofs: Roofs, derate: bool
) -> list[tuple[float, float]]:
    """The affine pieces (intercept at context 0, slope per token) of one operator's time,
    on the roofs of ``Roofs.ideal_s`` (derated by the flat efficiencies when ``derate``)."""
    peak = roofs.flops_roof(lo_op) * (roofs.compute_efficiency if derate else 1.0)
    bw = roofs.bandwidth_bytes_per_s * (roofs.bandwidth_efficiency if derate else 1.0)
    lines = []
    for at_lo, at_hi, roof in ((lo_op.flops, hi_op.flops, peak), (lo_op.bytes, hi_op.bytes, bw)):
        slope = (at_hi - at_lo) / roof / (hi - lo) if hi > lo else 0.0
        lines.append((at_lo / roof - slope * lo, slope))
    if lo_op.comm_bytes and roofs.interconnect_bytes_per_s:
        if derate:
            ic = roofs.interconnect_bytes_per_s * roofs.bandwidth_efficiency
            lines.append((lo_op.comm_bytes / ic, 0.0))
        else:
            lines.append((roofs.comm_ideal_s(lo_op), 0.0))
    return lines


_AFFINE = ("flops", "weight_bytes", "activation_bytes", "kv_bytes", "comm_bytes", "live_bytes")
_AFFINE_AT = tuple(OpCost._fields.index(f) for f in _AFFINE)
_SHAPE_AT = OpCost._fields.index("shape")


def context_line(lo_op: OpCost, hi_op: OpCost, lo: int, hi: int) -> Callable[[Number], OpCost]:
    """The operator at any context of a region, from its records at both ends: within a
    region every field is affine in the context (the premise of this module;
    tests/test_request.py checks it against the formulas for every preset), so each is
    the line through its two ends, with no operator formula evaluated. The context may be
    a number or an array."""
    if hi == lo:
        return lambda x: lo_op
    span = hi - lo
    low: tuple[Any, ...] = tuple(lo_op)
    high: tuple[Any, ...] = tuple(hi_op)
    fields = [(i, low[i], (high[i] - low[i]) / span) for i in _AFFINE_AT if low[i] != high[i]]
    dims = [
        (a, (b - a) / span if a != b else 0) for a, b in zip(lo_op.shape, hi_op.shape, strict=True)
    ]

    def at(x: Number) -> OpCost:
        dx = x - lo
        values = list(low)
        for i, a, slope in fields:
            values[i] = a + slope * dx
        values[_SHAPE_AT] = tuple(a + slope * dx if slope else a for a, slope in dims)
        return tuple.__new__(OpCost, values)

    return at


def sum_sampled(xs: Sequence[int], ys: Sequence[Number]) -> Number:
    """Σ over integers x in [xs[0], xs[-1]] of the piecewise-linear interpolant of (xs, ys).

    Each segment [a, b) contributes Σ_{x=a}^{b-1} (ya + (yb − ya)·(x − a)/(b − a))
    = (b − a)·ya + (yb − ya)·(b − a − 1)/2; the last point adds ys[-1].
    """
    total = ys[-1]
    for (a, ya), (b, yb) in itertools.pairwise(zip(xs, ys, strict=True)):
        total = total + (b - a) * ya + (yb - ya) * (b - a - 1) / 2  # not +=: ys may be arrays
    return total


def _sample_contexts(lo: int, hi: int) -> list[int]:
    """Every context of a short region, else SAMPLED_CONTEXTS evenly spaced (ends included)."""
    return [lo + k for k in _sample_offsets(hi - lo + 1)]


@functools.lru_cache(maxsize=64)
def _sample_offsets(n: int) -> tuple[int, ...]:
    """The sampled contexts of a region of ``n`` steps, counted from its first."""
    if n <= STEP_BY_STEP_LIMIT:
        return tuple(range(n))
    return tuple(
        sorted({round(i * (n - 1) / (SAMPLED_CONTEXTS - 1)) for i in range(SAMPLED_CONTEXTS)})
    )


def _sampled(xs: Sequence[int], values: Sequence[float]) -> float:
    """Σ over every integer context of the region: exact when every context was sampled."""
    if len(xs) == xs[-1] - xs[0] + 1:
        return float(sum(values))
    return float(sum_sampled(xs, values))


def varying_expected_s(ops: Sequence[OpCost], roofs: Roofs) -> Number:
    """Σ instances · expected seconds of the operators a decode step's context changes."""
    return sum(op.instances * roofs.expected_s(op) for op in ops)


def _fixed_times(
    ops: Sequence[OpCost], ideal: Sequence[Number], expected: Sequence[Number], varying: set[int]
) -> tuple[Number, Number]:
    """(expected, ideal) seconds of one step's operators the context does not change."""
    fixed = fixed_ideal = 0.0
    for k, op in enumerate(ops):
        if k not in varying:
            fixed = fixed + op.instances * expected[k]
            fixed_ideal = fixed_ideal + op.instances * ideal[k]
    return fixed, fixed_ideal


# What the region sum compiles (engine/compiled.py) for a decode step's program.
_BUILDERS: dict[str, Callable[[compiled.Program], Any]] = {
    "fixed_times": lambda pr: _fixed_times(pr.ops, pr.ideal, pr.expected, set(pr.varying)),
    "varying_ops": lambda pr: tuple(pr.ops[k] for k in pr.varying),
    "varying_expected": lambda pr: varying_expected_s([pr.ops[k] for k in pr.varying], pr.roofs),
}
# With the step's own operator times known: only the changing operators' times at ``lo``.
_VARYING_TIMES = (
    "varying_times",
    lambda pr: _fixed_times(
        pr.ops, pr.ideal, pr.expected, set(range(len(pr.ops))) - set(pr.varying)
    ),
)


def _region_parts(
    m: Model,
    w: Workload,
    layout: Layout,
    roofs: Roofs,
    lo: int,
    hi: int,
    step_at_lo: tuple[float, float] | None,
) -> tuple[
    tuple[Number, Number], Sequence[OpCost], Sequence[OpCost], Callable[[list[int]], list[Number]]
]:
    """Of one region's decode steps: the (expected, ideal) time of the operators the context
    does not change (projections, MLP, norms), the others' records at both ends, and the
    expected time of those others at each of a list of contexts. Compiled, or from the records at both
    ends (each changing operator the line through them, ``context_line``).
    ``step_at_lo``: (expected, ideal) seconds of all the step's operators at context
    ``lo`` when already known (the analysis's own step): the unchanging ones are then
    those less the changing ones, with no operator priced again."""
    b, p_lo = w.batch_size, decode_pass(w, context=lo)
    pr = compiled.program(m, layout, p_lo, 0, roofs)
    fns = (
        [pr.function(k, build, k == "varying_expected") for k, build in _BUILDERS.items()]
        if pr is not None
        else []
    )
    if pr is not None and all(fn is not None for fn in fns):
        fixed_fn, ops_fn, expected_fn = fns
        assert fixed_fn is not None and ops_fn is not None and expected_fn is not None
        varying_fn = pr.function(*_VARYING_TIMES) if step_at_lo is not None else None
        if varying_fn is not None and step_at_lo is not None:
            var_e, var_i = varying_fn(b, 1, lo)
            fixed = (step_at_lo[0] - var_e, step_at_lo[1] - var_i)
        else:
            fixed = fixed_fn(b, 1, lo)
        return (
            fixed,
            ops_fn(b, 1, lo),
            ops_fn(b, 1, hi),
            lambda xs: expected_fn(b, 1, xs),
        )
    ops_lo, ideal_lo, expected_lo = priced_operators(m, layout, p_lo, 0, roofs)
    ops_hi = ops_lo if hi == lo else stage_operators(m, layout, decode_pass(w, context=hi))
    varying = [k for k, (x, y) in enumerate(zip(ops_lo, ops_hi, strict=True)) if x != y]
    lines = [context_line(ops_lo[k], ops_hi[k], lo, hi) for k in varying]
    return (
        _fixed_times(ops_lo, ideal_lo, expected_lo, set(varying)),
        [ops_lo[k] for k in varying],
        [ops_hi[k] for k in varying],
        lambda xs: [varying_expected_s([line(x) for line in lines], roofs) for x in xs],
    )


def decode_steps_s(
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    first: int,
    last: int,
    step_at_first: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """(expected, ideal) sums of decode step times for contexts first..last inclusive.
    ``step_at_first``: (expected, ideal) seconds of the operators of the step at context
    ``first`` (one stage, one micro-batch), when the caller has them."""
    windows = sorted({g.window for g in m.layer_groups if g.window is not None})
    inner = {x for wdw in windows for x in (wdw, wdw + 1) if first < x <= last}
    edges = [*sorted({first, *inner}), last + 1]
    one_batch = micro_batch_sizes(w.batch_size, layout.micro_batches) == [(w.batch_size, 1)]
    per_operator = layout.pipeline == 1 and one_batch  # a step is a sum of operator times
    flat = roofs.calibration is None  # expected = ideal on derated roofs: affine pieces
    expected = ideal = 0.0
    for lo, stop in itertools.pairwise(edges):
        hi, steps = stop - 1, stop - lo
        if per_operator and flat:  # exact: each operator's time is a max of affine pieces
            ops_lo = stage_operators(m, layout, decode_pass(w, context=lo))
            ops_hi = ops_lo if hi == lo else stage_operators(m, layout, decode_pass(w, context=hi))
            for a, b in zip(ops_lo, ops_hi, strict=True):
                ideal += a.instances * sum_affine_max(_op_lines(a, b, lo, hi, roofs, False), lo, hi)
                lines = _op_lines(a, b, lo, hi, roofs, True)
                expected += a.instances * sum_affine_max(lines, lo, hi)
            expected += steps * roofs.step_overhead_s
            continue
        if per_operator:  # the operators the context changes summed exactly (ideal), sampled
            known = step_at_first if lo == first else None
            parts = _region_parts(m, w, layout, roofs, lo, hi, known)
            (fixed, fixed_ideal), var_lo, var_hi, at = parts
            for a, b in zip(var_lo, var_hi, strict=True):
                ideal += a.instances * sum_affine_max(_op_lines(a, b, lo, hi, roofs, False), lo, hi)
            ideal += steps * fixed_ideal
            expected += steps * (fixed + roofs.step_overhead_s)
            if var_lo:  # one number per sampled context: no array, numpy not imported
                xs = _sample_contexts(lo, hi)
                expected += _sampled(xs, at(xs))
            continue
        # Sampled: every context of a short region, else SAMPLED_CONTEXTS, evaluated as one
        # array of passes (the same formulas, element-wise).
        xs = _sample_contexts(lo, hi)
        step_e, step_i = steady_times(m, layout, decode_pass(w, context=xp.array(xs)), roofs)
        expected += _sampled(xs, xp.values(step_e, len(xs)))
        ideal += _sampled(xs, xp.values(step_i, len(xs)))
    return expected, ideal


def request_times(
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    prefill_s: float,
    ideal_prefill_s: float,
    step_at_prompt: tuple[float, float] | None = None,
) -> Request:
    """Latency as serving benchmarks count it: TTFT (the prefill, which yields the first
    token), then output_len − 1 decode steps at contexts prompt, …, prompt + output − 2.
    ``step_at_prompt``: (expected, ideal) seconds of the operators of the decode step at
    context ``prompt_len`` on one stage and micro-batch, when the caller has them."""
    n = w.output_len
    last = w.prompt_len + n - 2
    decode_s, ideal_decode_s = (
        decode_steps_s(m, w, roofs, layout, w.prompt_len, last, step_at_prompt)
        if n > 1
        else (0.0, 0.0)
    )
    total = prefill_s + decode_s
    return Request(
        prefill_s=prefill_s,
        decode_steps=max(n - 1, 0),
        decode_s=decode_s,
        total_s=total,
        ideal_total_s=ideal_prefill_s + ideal_decode_s,
        output_tokens_per_s=layout.data * w.batch_size * n / total if total else 0.0,
    )
