"""How long an operator takes: the ideal roofline and the expected (derated) estimate.

``Roofs`` holds one device's roofs for one compute dtype. The ideal time is the roofline
lower bound. The expected time divides each roof by an achievable fraction of peak: the
hardware's flat ``compute_efficiency`` and ``bandwidth_efficiency`` (defaults in
hardware.py, sources in docs/CALIBRATION.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import roofline
from .hardware import Hardware
from .ops import OpCost


@dataclass(frozen=True, slots=True)
class Roofs:
    dtype: str
    peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    interconnect_bytes_per_s: float | None
    compute_efficiency: float
    bandwidth_efficiency: float

    @classmethod
    def of(cls, hardware: Hardware, activation_dtype: str) -> Roofs:
        dtype = hardware.compute_dtype_for(activation_dtype)
        return cls(
            dtype=dtype,
            peak_flops_per_s=hardware.peak_flops_per_s[dtype],
            bandwidth_bytes_per_s=hardware.bandwidth_bytes_per_s,
            interconnect_bytes_per_s=hardware.interconnect_bytes_per_s,
            compute_efficiency=hardware.compute_efficiency,
            bandwidth_efficiency=hardware.bandwidth_efficiency,
        )

    @property
    def ridge_point(self) -> float:
        return roofline.ridge_point(self.peak_flops_per_s, self.bandwidth_bytes_per_s)

    def ideal_s(self, op: OpCost) -> float:
        """Roofline time of one instance."""
        return roofline.op_time_s(
            op.flops,
            op.bytes,
            self.peak_flops_per_s,
            self.bandwidth_bytes_per_s,
            op.comm_bytes,
            self.interconnect_bytes_per_s,
        )

    def expected_s(self, op: OpCost) -> float:
        """Time of one instance with each roof derated by its achievable fraction."""
        ic = self.interconnect_bytes_per_s
        return roofline.op_time_s(
            op.flops,
            op.bytes,
            self.peak_flops_per_s * self.compute_efficiency,
            self.bandwidth_bytes_per_s * self.bandwidth_efficiency,
            op.comm_bytes,
            ic * self.bandwidth_efficiency if ic else None,
        )

    def bound(self, op: OpCost) -> str:
        return roofline.bound(
            op.flops,
            op.bytes,
            self.peak_flops_per_s,
            self.bandwidth_bytes_per_s,
            op.comm_bytes,
            self.interconnect_bytes_per_s,
        )
