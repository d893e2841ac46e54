"""The roofline core: tiny, pure, no I/O and no unit conversion.

time = max(FLOPs / peak, bytes / bandwidth[, interconnect bytes / interconnect bandwidth]);
ridge = peak / bandwidth; an operator or phase is compute-bound iff AI >= ridge (a tie is
compute-bound). Works on floats and, element-wise, on numpy arrays.
"""

from __future__ import annotations

COMPUTE_BOUND = "compute-bound"
MEMORY_BOUND = "memory-bound"
COMMUNICATION_BOUND = "communication-bound"


def ridge_point(peak_flops_per_s: float, bandwidth_bytes_per_s: float) -> float:
    """FLOP/byte where the compute roof meets the bandwidth slope."""
    return peak_flops_per_s / bandwidth_bytes_per_s


def intensity(flops: float, bytes_: float) -> float | None:
    """FLOPs per byte moved; None when nothing moves through memory."""
    return flops / bytes_ if bytes_ > 0 else None


def op_time_s(
    flops: float,
    bytes_: float,
    peak_flops_per_s: float,
    bandwidth_bytes_per_s: float,
    comm_bytes: float = 0.0,
    interconnect_bytes_per_s: float | None = None,
) -> float:
    """Roofline time of one operator: the slowest of compute, memory and interconnect."""
    t = max(flops / peak_flops_per_s, bytes_ / bandwidth_bytes_per_s)
    if comm_bytes:
        if not interconnect_bytes_per_s:
            raise ValueError("interconnect_bytes_per_s is needed for communication operators")
        t = max(t, comm_bytes / interconnect_bytes_per_s)
    return t


def bound(
    flops: float,
    bytes_: float,
    peak_flops_per_s: float,
    bandwidth_bytes_per_s: float,
    comm_bytes: float = 0.0,
    interconnect_bytes_per_s: float | None = None,
) -> str:
    """Which roof limits: communication if its time is the largest, else AI vs the ridge."""
    if comm_bytes and interconnect_bytes_per_s:
        comm_s = comm_bytes / interconnect_bytes_per_s
        if comm_s >= max(flops / peak_flops_per_s, bytes_ / bandwidth_bytes_per_s):
            return COMMUNICATION_BOUND
    ridge = ridge_point(peak_flops_per_s, bandwidth_bytes_per_s)
    return COMPUTE_BOUND if bytes_ == 0 or flops / bytes_ >= ridge else MEMORY_BOUND
