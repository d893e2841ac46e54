"""A whole request: prefill, then ``output_len`` decode steps with a growing context.

Summing the step times one by one would cost one pass per token. Instead, each operator's
FLOPs and bytes are affine in the context within a region (regions end where a sliding
window fills), so its time max(FLOPs/peak, bytes/bandwidth) is the upper envelope of
affine functions and its sum over the integer contexts has a closed form. Two passes per
region give the exact sum (tested against the step-by-step sum).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from .layers import forward_operators
from .model import Model
from .ops import OpCost, Pass
from .report import Phase, Request
from .timing import Roofs
from .workload import Workload


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
    """The affine pieces (intercept at context 0, slope per token) of one operator's time."""
    peak = roofs.peak_flops_per_s * (roofs.compute_efficiency if derate else 1.0)
    bw = roofs.bandwidth_bytes_per_s * (roofs.bandwidth_efficiency if derate else 1.0)
    lines = []
    for at_lo, at_hi, roof in ((lo_op.flops, hi_op.flops, peak), (lo_op.bytes, hi_op.bytes, bw)):
        slope = (at_hi - at_lo) / roof / (hi - lo) if hi > lo else 0.0
        lines.append((at_lo / roof - slope * lo, slope))
    if lo_op.comm_bytes and roofs.interconnect_bytes_per_s:
        ic = roofs.interconnect_bytes_per_s * (roofs.bandwidth_efficiency if derate else 1.0)
        lines.append((lo_op.comm_bytes / ic, 0.0))
    return lines


def decode_steps_s(
    m: Model, w: Workload, roofs: Roofs, first: int, last: int
) -> tuple[float, float]:
    """(expected, ideal) sums of decode step times for contexts first..last inclusive."""
    windows = sorted({g.window for g in m.layer_groups if g.window is not None})
    inner = {x for wdw in windows for x in (wdw, wdw + 1) if first < x <= last}
    edges = [*sorted({first, *inner}), last + 1]
    expected = ideal = 0.0
    for lo, stop in itertools.pairwise(edges):
        hi = stop - 1
        ops_lo = forward_operators(m, Pass.of(w, new=1, past=lo))
        ops_hi = ops_lo if hi == lo else forward_operators(m, Pass.of(w, new=1, past=hi))
        for a, b in zip(ops_lo, ops_hi, strict=True):
            expected += a.instances * sum_affine_max(_op_lines(a, b, lo, hi, roofs, True), lo, hi)
            ideal += a.instances * sum_affine_max(_op_lines(a, b, lo, hi, roofs, False), lo, hi)
    return expected, ideal


def request_times(m: Model, w: Workload, roofs: Roofs, prefill: Phase) -> Request:
    """Prefill, then output_len decode steps at contexts prompt, prompt+1, …."""
    n = w.output_len
    decode_s, ideal_decode_s = (
        decode_steps_s(m, w, roofs, w.prompt_len, w.prompt_len + n - 1) if n else (0.0, 0.0)
    )
    total = prefill.expected_time_s + decode_s
    return Request(
        prefill_s=prefill.expected_time_s,
        decode_s=decode_s,
        total_s=total,
        ideal_total_s=prefill.time_s + ideal_decode_s,
        output_tokens_per_s=w.batch_size * n / total if total else 0.0,
    )
