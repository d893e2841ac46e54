"""The roofline core: tiny, pure, no I/O and no unit conversion.

time = max(FLOPs / peak, bytes / bandwidth[, interconnect bytes / interconnect bandwidth]);
ridge = peak / bandwidth; an operator or phase is compute-bound iff AI >= ridge (a tie is
compute-bound). Works on floats and, element-wise, on numpy arrays.
"""

from __future__ import annotations

from ..inputs import xp
from ..inputs.xp import Number

COMPUTE_BOUND = "compute-bound"
MEMORY_BOUND = "memory-bound"
COMMUNICATION_BOUND = "communication-bound"


def ridge_point(peak_flops_per_s: Number, bandwidth_bytes_per_s: Number) -> Number:
    """FLOP/byte where the compute roof meets the bandwidth slope."""
    return peak_flops_per_s / bandwidth_bytes_per_s


def intensity(flops: float, bytes_: float) -> float | None:
    """FLOPs per byte moved; None when nothing moves through memory (one configuration)."""
    return flops / bytes_ if bytes_ > 0 else None


def op_time_s(
    flops: Number,
    bytes_: Number,
    peak_flops_per_s: Number,
    bandwidth_bytes_per_s: Number,
    comm_bytes: Number = 0.0,
    interconnect_bytes_per_s: Number | None = None,
) -> Number:
    """Roofline time of one operator: the slowest of compute, memory and interconnect."""
    t = xp.maximum(flops / peak_flops_per_s, bytes_ / bandwidth_bytes_per_s)
    if type(comm_bytes) in (int, float) and not comm_bytes:
        return t
    if not interconnect_bytes_per_s:
        raise ValueError("interconnect_bytes_per_s is needed for communication operators")
    return xp.maximum(t, comm_bytes / interconnect_bytes_per_s)


def compute_bound(flops: Number, bytes_: Number, ridge: Number) -> Number:
    """True where AI >= ridge (nothing moved counts as compute-bound); arrays element-wise."""
    return flops >= ridge * bytes_


def bound(
    flops: Number,
    bytes_: Number,
    peak_flops_per_s: Number,
    bandwidth_bytes_per_s: Number,
    comm_bytes: Number = 0.0,
    interconnect_bytes_per_s: Number | None = None,
) -> Number:
    """Which roof limits: communication if its time is the largest, else AI vs the ridge.
    A string for one configuration, an array of strings for arrays."""
    ridge = ridge_point(peak_flops_per_s, bandwidth_bytes_per_s)
    chip = xp.where(compute_bound(flops, bytes_, ridge), COMPUTE_BOUND, MEMORY_BOUND)
    if (type(comm_bytes) in (int, float) and not comm_bytes) or not interconnect_bytes_per_s:
        return chip
    comm_s = comm_bytes / interconnect_bytes_per_s
    on_chip = xp.maximum(flops / peak_flops_per_s, bytes_ / bandwidth_bytes_per_s)
    if xp.is_scalar(comm_s, on_chip):
        return COMMUNICATION_BOUND if comm_s > 0 and comm_s >= on_chip else chip
    return xp.where((comm_s > 0) & (comm_s >= on_chip), COMMUNICATION_BOUND, chip)
