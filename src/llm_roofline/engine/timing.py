"""How long an operator takes: the ideal roofline and the expected (derated) estimate.

``Roofs`` holds one device's roofs for one compute dtype. The ideal time is the roofline
lower bound. The expected time divides each roof by an achievable fraction of peak: the
hardware's flat ``compute_efficiency`` and ``bandwidth_efficiency`` (defaults in
hardware.py, sources in docs/CALIBRATION.md) or, when the hardware carries a measured
``efficiency_table`` with an entry for the compute dtype, the calibrated time of
``calibration.py`` (per-operator efficiency by kind and shape, plus a fixed overhead).
Operators the table does not cover (interconnect traffic) keep the flat fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..inputs.hardware import Hardware
from ..inputs.xp import Number
from . import roofline
from .calibration import Calibration, calibration_from_table
from .ops import OpCost


@dataclass(frozen=True, slots=True)
class Roofs:
    dtype: str
    peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    interconnect_bytes_per_s: float | None
    compute_efficiency: float
    bandwidth_efficiency: float
    # Parsed from the hardware's efficiency_table (unhashable mappings: left out of eq/hash).
    calibration: Calibration | None = field(default=None, compare=False)

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
            calibration=_calibration(hardware.efficiency_table, dtype),
        )

    @property
    def ridge_point(self) -> Number:
        return roofline.ridge_point(self.peak_flops_per_s, self.bandwidth_bytes_per_s)

    def ideal_s(self, op: OpCost) -> Number:
        """Roofline time of one instance."""
        return roofline.op_time_s(
            op.flops,
            op.bytes,
            self.peak_flops_per_s,
            self.bandwidth_bytes_per_s,
            op.comm_bytes,
            self.interconnect_bytes_per_s,
        )

    def expected_s(self, op: OpCost) -> Number:
        """Time of one instance: calibrated when measured, else each roof derated."""
        if self.calibration is not None:
            calibrated = self.calibration.expected_s(op, self.ideal_s(op))
            if calibrated is not None:
                return calibrated
        ic = self.interconnect_bytes_per_s
        return roofline.op_time_s(
            op.flops,
            op.bytes,
            self.peak_flops_per_s * self.compute_efficiency,
            self.bandwidth_bytes_per_s * self.bandwidth_efficiency,
            op.comm_bytes,
            ic * self.bandwidth_efficiency if ic else None,
        )

    def bound(self, op: OpCost) -> Number:
        return roofline.bound(
            op.flops,
            op.bytes,
            self.peak_flops_per_s,
            self.bandwidth_bytes_per_s,
            op.comm_bytes,
            self.interconnect_bytes_per_s,
        )


_CACHE: dict[tuple[int, str], tuple[dict[str, Any], Calibration | None]] = {}


def _calibration(table: dict[str, Any] | None, dtype: str) -> Calibration | None:
    """The parsed table entry for ``dtype``, parsed once per table object (a small cache)."""
    if table is None:
        return None
    key = (id(table), dtype)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    parsed = calibration_from_table(table, dtype)
    if len(_CACHE) >= 16:
        _CACHE.clear()
    _CACHE[key] = (table, parsed)  # holding the table keeps its id from being reused
    return parsed
