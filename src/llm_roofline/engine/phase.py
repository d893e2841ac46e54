"""A pass's operators summed into a ``Phase``: named rows, totals, the binding roof.

Phase time is the sum of operator times (no overlap between operators). Rows merge every
instance of one operator name (its layer groups) in first-appearance order.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..inputs import xp
from . import roofline
from .ops import OpCost
from .report import OperatorRow, Phase
from .timing import Roofs


def build_phase(
    op_list: Sequence[OpCost],
    roofs: Roofs,
    passes: int = 1,
    prices: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Phase:
    """Sum operator instances into named rows (first-appearance order) and phase totals;
    ``passes`` forward passes (micro-batches) each pay the engine's fixed time per pass.
    ``prices``: each record's (ideal, expected) seconds per instance, when already known
    (engine/compiled.py), else priced here."""
    if prices is None:
        prices = [roofs.ideal_s(op) for op in op_list], [roofs.expected_s(op) for op in op_list]
    rows: dict[str, list[float]] = {}
    kinds: dict[str, str] = {}
    memory_bound_s = 0.0
    peak, bw = roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s
    counts: dict[str, int] = {}
    for op, ideal_s, expected_s in zip(op_list, *prices, strict=True):
        name, kind, flops, weights, activations, kv, comm, n = op[:8]
        ideal, expected = ideal_s * n, expected_s * n
        memory_s = (weights + activations + kv) / bw
        # Memory is the binding roof of this instance (written without a branch on the
        # numbers, so engine/compiled.py can trace it).
        bound_here = xp.where(memory_s * n >= ideal, ideal, 0.0)
        memory_bound_s = memory_bound_s + xp.where(memory_s > flops / peak, bound_here, 0.0)
        acc = rows.get(name)
        if acc is None:
            acc = rows[name] = [0.0] * 7
            kinds[name], counts[name] = kind, 0
        acc[0] += flops * n
        acc[1] += weights * n
        acc[2] += activations * n
        acc[3] += kv * n
        acc[4] += comm * n
        acc[5] += ideal
        acc[6] += expected
        counts[name] += n
    built = tuple(_row(name, (kinds[name], counts[name]), acc, roofs) for name, acc in rows.items())
    if roofs.step_overhead_s:
        built += (overhead_row(roofs.step_overhead_s, passes),)
    flops = sum(r.flops for r in built)
    bytes_ = sum(r.bytes for r in built)
    time_s = sum(r.time_s for r in built)
    return Phase(
        flops=flops,
        bytes=bytes_,
        arithmetic_intensity=roofline.intensity(flops, bytes_),
        bound=roofline.bound(flops, bytes_, peak, bw),
        time_s=time_s,
        expected_time_s=sum(r.expected_time_s for r in built),
        compute_time_s=flops / peak,
        memory_time_s=bytes_ / bw,
        memory_bound_time_fraction=xp.minimum(1.0, memory_bound_s / time_s) if time_s else 0.0,
        operators=built,
    )


OVERHEAD = "overhead"  # the kind of a fixed-cost row: host time outside the operators


def overhead_row(seconds: float, passes: int = 1) -> OperatorRow:
    """The engine's fixed host time per pass (framework, scheduling, launches) as its own
    row: no FLOPs or bytes, no ideal time, ``seconds`` of expected time per pass."""
    return OperatorRow(
        name="step_overhead",
        kind=OVERHEAD,
        count=passes,
        flops=0.0,
        bytes=0.0,
        weight_bytes=0.0,
        activation_bytes=0.0,
        kv_bytes=0.0,
        comm_bytes=0.0,
        arithmetic_intensity=None,
        bound="fixed cost",
        time_s=0.0,
        expected_time_s=seconds * passes,
    )


def _row(name: str, kind_count: tuple[str, int], acc: list[float], roofs: Roofs) -> OperatorRow:
    flops, weight, activation, kv, comm, ideal, expected = acc
    bytes_ = weight + activation + kv
    return OperatorRow(
        name=name,
        kind=kind_count[0],
        count=kind_count[1],
        flops=flops,
        bytes=bytes_,
        weight_bytes=weight,
        activation_bytes=activation,
        kv_bytes=kv,
        comm_bytes=comm,
        arithmetic_intensity=roofline.intensity(flops, bytes_),
        bound=roofline.bound(
            flops,
            bytes_,
            roofs.peak_flops_per_s,
            roofs.bandwidth_bytes_per_s,
            comm,
            roofs.interconnect_bytes_per_s,
        ),
        time_s=ideal,
        expected_time_s=expected,
    )


def phase_totals(op_list: Sequence[OpCost]) -> tuple[float, float]:
    """(FLOPs, bytes) of a pass without building report rows (numbers or arrays)."""
    flops = bytes_ = 0.0
    for op in op_list:
        flops = flops + op.flops * op.instances
        bytes_ = bytes_ + (op.weight_bytes + op.activation_bytes + op.kv_bytes) * op.instances
    return flops, bytes_


def phase_times(op_list: Sequence[OpCost], roofs: Roofs) -> tuple[float, float]:
    """(expected, ideal) seconds of a pass without building rows (numbers or arrays), the
    engine's fixed time per pass included in the expected one (as build_phase's row)."""
    expected, ideal = roofs.step_overhead_s, 0.0
    for op in op_list:
        expected = expected + roofs.expected_s(op) * op.instances
        ideal = ideal + roofs.ideal_s(op) * op.instances
    return expected, ideal
