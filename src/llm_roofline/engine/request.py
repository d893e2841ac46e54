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
    if len(lines) == 2:
        (a1, b1), (a2, b2) = lines
        if b1 == b2 == 0.0:  # constant in x (most ops)
            return (hi - lo + 1) * max(a1, a2)
        if b1 == b2 or not lo < (a2 - a1) / (b1 - b2) < hi:  # one line above all the way
            n, mid = hi - lo + 1, (lo + hi) / 2
            a, b = (a1, b1) if a1 + b1 * mid >= a2 + b2 * mid else (a2, b2)
            return n * a + b * n * mid
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


def interpolant_weights(xs: Sequence[int]) -> tuple[float, ...]:
    """Weights w with Σ_k w_k·y_k = Σ over integers x in [xs[0], xs[-1]] of the
    piecewise-linear interpolant of (xs, ys), for any ys.

    Each segment [a, b) contributes Σ_{x=a}^{b-1} (ya + (yb − ya)·(x − a)/(b − a))
    = ya·(b − a + 1)/2 + yb·(b − a − 1)/2; the last point adds ys[-1] once more.
    Consecutive points get weight 1 each.
    """
    weights = [0.0] * len(xs)
    weights[-1] = 1.0
    for k, (a, b) in enumerate(itertools.pairwise(xs)):
        weights[k] += (b - a + 1) / 2
        weights[k + 1] += (b - a - 1) / 2
    return tuple(weights)


def sum_sampled(xs: Sequence[int], ys: Sequence[Number]) -> Number:
    """Σ over integers x in [xs[0], xs[-1]] of the piecewise-linear interpolant of (xs, ys)
    (numbers or arrays), by ``interpolant_weights``."""
    total: Number = 0.0
    for weight, y in zip(interpolant_weights(xs), ys, strict=True):
        total = total + weight * y  # not +=: ys may be arrays
    return total


@functools.lru_cache(maxsize=64)
def _sample_plan(n: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The sampled contexts of a region of ``n`` steps, counted from its first, and their
    ``interpolant_weights``: every context of a short region (each weight 1), else
    SAMPLED_CONTEXTS evenly spaced (both ends included)."""
    if n <= STEP_BY_STEP_LIMIT:
        return tuple(range(n)), (1.0,) * n
    xs = sorted({round(i * (n - 1) / (SAMPLED_CONTEXTS - 1)) for i in range(SAMPLED_CONTEXTS)})
    return tuple(xs), interpolant_weights(xs)


def _sampled(weights: Sequence[float], values: Sequence[float]) -> float:
    """Σ over every integer context of the region, from its samples (``_sample_plan``),
    summed in the order the compiled loop sums them."""
    total = 0.0
    for weight, value in zip(weights, values, strict=True):
        total += weight * value
    return float(total)


def _each_time(op: OpCost, ideal: Number, expected: Number) -> tuple[Number, Number]:
    """(expected, ideal) seconds of all instances of one priced operator record."""
    return _each_expected(op, expected), op.instances * ideal


def _each_expected(op: OpCost, expected: Number) -> Number:
    return op.instances * expected


def _step_times(
    ops: Sequence[OpCost], ideal: Sequence[Number], expected: Sequence[Number]
) -> tuple[Number, Number]:
    """(expected, ideal) seconds of one step's operators (no fixed time per step)."""
    total = total_ideal = 0.0
    for op, i, e in zip(ops, ideal, expected, strict=True):
        e_k, i_k = _each_time(op, i, e)
        total, total_ideal = total + e_k, total_ideal + i_k
    return total, total_ideal


# What the region sum compiles (engine/compiled.py) for a decode step's program: of the
# records that depend on the cached tokens, the records, their times, and their expected
# times' weighted sums over sampled contexts; and the whole step's times.
_BUILDERS: dict[str, Callable[[compiled.Program], Any]] = {
    "step_times": lambda pr: _step_times(pr.ops, pr.ideal, pr.expected),
    "varying_ops": lambda pr: tuple(pr.ops[k] for k in pr.varying),
    "varying_each": lambda pr: tuple(
        _each_time(pr.ops[k], pr.ideal[k], pr.expected[k]) for k in pr.varying
    ),
    "varying_sums": lambda pr: tuple(_each_expected(pr.ops[k], pr.expected[k]) for k in pr.varying),
}


def _region_functions(pr: compiled.Program) -> tuple[Callable[..., Any], ...] | None:
    """The compiled region functions of a decode step's program (``_BUILDERS``), or None
    where one of them cannot be compiled."""
    fns = [pr.function(k, build, k == "varying_sums") for k, build in _BUILDERS.items()]
    return tuple(fn for fn in fns if fn is not None) if None not in fns else None


def _region_sums(
    m: Model,
    w: Workload,
    layout: Layout,
    roofs: Roofs,
    lo: int,
    hi: int,
    step_at_lo: tuple[float, float] | None,
    known: compiled.Program | None = None,
) -> tuple[float, float]:
    """(expected, ideal) sums of the region's decode steps at contexts lo..hi, on one
    stage of one micro-batch, calibrated roofs. The operators whose records differ at the
    region's ends (attention and the cache) change with the context: their ideal times
    summed exactly (``sum_affine_max``), their expected times from ``_sample_plan``'s
    contexts; the others' times are the step's at ``lo`` less theirs, once per step.

    Compiled, or on numbers (the records at each sampled context from the formulas), with
    the same arithmetic in the same order: the same sums either way. ``step_at_lo``: the
    (expected, ideal) seconds of the step's operators at ``lo`` when already known (the
    analysis's own step); ``known``: the compiled operators of a decode step (its class:
    any context of 1 or more), when the caller has them."""
    b, steps = w.batch_size, hi - lo + 1
    offsets, weights = _sample_plan(steps)
    pr = (
        compiled.program(m, layout, decode_pass(w, context=lo), 0, roofs)
        if known is None
        else known
    )
    fns = None if pr is None else pr.derived("region", _region_functions)
    if fns is not None:
        step_fn, ops_fn, each_fn, sums_fn = fns
        ops_lo, ops_hi, each = ops_fn(b, 1, lo), ops_fn(b, 1, hi), each_fn(b, 1, lo)
        changed = [k for k, (x, y) in enumerate(zip(ops_lo, ops_hi, strict=True)) if x != y]
        sums = sums_fn(b, 1, lo, offsets, weights) if changed else ()
        step = step_at_lo if step_at_lo is not None else step_fn(b, 1, lo)
    else:  # on numbers: every record a candidate
        ops_lo, ideal_lo, expected_lo = priced_operators(
            m, layout, decode_pass(w, context=lo), 0, roofs
        )
        ops_hi = ops_lo if hi == lo else stage_operators(m, layout, decode_pass(w, context=hi))
        changed = [k for k, (x, y) in enumerate(zip(ops_lo, ops_hi, strict=True)) if x != y]
        each = [_each_time(*at_k) for at_k in zip(ops_lo, ideal_lo, expected_lo, strict=True)]
        sums = [0.0] * len(ops_lo)
        for offset, weight in zip(offsets, weights, strict=True) if changed else ():
            at_x = stage_operators(m, layout, decode_pass(w, context=lo + offset))
            for k in changed:
                sums[k] += weight * _each_expected(at_x[k], roofs.expected_s(at_x[k]))
        step = step_at_lo if step_at_lo is not None else _step_times(ops_lo, ideal_lo, expected_lo)
    changed_e = changed_i = sampled = ideal = 0.0
    for k in changed:
        changed_e, changed_i = changed_e + each[k][0], changed_i + each[k][1]
        sampled += sums[k]
        lines = _op_lines(ops_lo[k], ops_hi[k], lo, hi, roofs, False)
        ideal += ops_lo[k].instances * sum_affine_max(lines, lo, hi)
    fixed, fixed_ideal = step[0] - changed_e, step[1] - changed_i
    return steps * (fixed + roofs.step_overhead_s) + sampled, ideal + steps * fixed_ideal


def decode_steps_s(
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    first: int,
    last: int,
    step_at_first: tuple[float, float] | None = None,
    program: compiled.Program | None = None,
) -> tuple[float, float]:
    """(expected, ideal) sums of decode step times for contexts first..last inclusive.
    ``step_at_first``: (expected, ideal) seconds of the operators of the step at context
    ``first`` (one stage, one micro-batch), when the caller has them; ``program``: the
    compiled operators of a decode step of the workload (one stage, one micro-batch)."""
    inner = {x for wdw in m.windows for x in (wdw, wdw + 1) if first < x <= last}
    edges = [*sorted({first, *inner}), last + 1] if inner else [first, last + 1]
    one_batch = layout.micro_batches == 1 or micro_batch_sizes(
        w.batch_size, layout.micro_batches
    ) == [(w.batch_size, 1)]
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
            region_e, region_i = _region_sums(m, w, layout, roofs, lo, hi, known, program)
            expected, ideal = expected + region_e, ideal + region_i
            continue
        # Sampled: every context of a short region, else SAMPLED_CONTEXTS, evaluated as one
        # array of passes (the same formulas, element-wise).
        offsets, weights = _sample_plan(steps)
        xs = [lo + k for k in offsets]
        step_e, step_i = steady_times(m, layout, decode_pass(w, context=xp.array(xs)), roofs)
        expected += _sampled(weights, xp.values(step_e, len(xs)))
        ideal += _sampled(weights, xp.values(step_i, len(xs)))
    return expected, ideal


def request_times(
    m: Model,
    w: Workload,
    roofs: Roofs,
    layout: Layout,
    prefill_s: float,
    ideal_prefill_s: float,
    step_at_prompt: tuple[float, float] | None = None,
    program: compiled.Program | None = None,
) -> Request:
    """Latency as serving benchmarks count it: TTFT (the prefill, which yields the first
    token), then output_len − 1 decode steps at contexts prompt, …, prompt + output − 2.
    ``step_at_prompt``: (expected, ideal) seconds of the operators of the decode step at
    context ``prompt_len`` on one stage and micro-batch, when the caller has them;
    ``program``: the compiled operators of a decode step (``PassTiming.program``)."""
    n = w.output_len
    last = w.prompt_len + n - 2
    decode_s, ideal_decode_s = (
        decode_steps_s(m, w, roofs, layout, w.prompt_len, last, step_at_prompt, program)
        if n > 1
        else (0.0, 0.0)
    )
    total = prefill_s + decode_s
    rate = layout.data * w.batch_size * n / total if total else 0.0
    # prefill_s, decode_steps, decode_s, total_s, ideal_total_s, output_tokens_per_s
    return Request(
        prefill_s, max(n - 1, 0), decode_s, total, ideal_prefill_s + ideal_decode_s, rate
    )
