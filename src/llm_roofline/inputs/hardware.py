"""An accelerator's roofs: the ``Hardware`` dataclass.

SI units inside: FLOP/s, bytes/s, bytes. Peaks are dense (no 2:4 sparsity), one per
compute dtype the device runs natively. Human units are converted in ``units``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import bounds, checks
from .dtypes import COMPUTE_DTYPES

# Default achievable fractions of peak for the "expected" estimate. Chosen from the
# published measured runs in docs/CALIBRATION.md (shared/data/calibration_measurements.json):
# measured against our own ideal (weights + KV + activations), 16-bit decode runs of tuned
# engines reach 0.65-0.82 of the bandwidth roof (median 0.675; 0.65 over all 14 decode runs,
# quantized ones included: their dequantizing kernels reach less); prefill runs of LMDeploy
# reach 0.68-0.75 of the compute roof. 0.70 describes a tuned 16-bit engine; expect
# quantized decode to be slower than this estimate (docs/CALIBRATION.md has every run).
DEFAULT_COMPUTE_EFFICIENCY = 0.70
DEFAULT_BANDWIDTH_EFFICIENCY = 0.70

# Device generations: the key of the expected-time data (catalog/data/efficiency/<g>.json),
# one per architecture whose kernels share efficiencies (NVIDIA compute capability, AMD
# CDNA/RDNA, Apple GPU family, TPU version). "" is unknown (no table: flat fractions).
GENERATIONS: tuple[str, ...] = (
    "volta",
    "turing",
    "ampere",
    "ampere-ga10x",
    "ada",
    "hopper",
    "blackwell",
    "blackwell-gb20x",
    "cdna2",
    "cdna3",
    "cdna4",
    "gaudi",
    "apple",
    "tpu",
)

# The format of an efficiency table (the expected-time data; engine/calibration.py parses it).
EFFICIENCY_TABLE_FORMAT = "llm-roofline/efficiency-table/v2"

# 16-bit floats run at the same tensor-core rate wherever both exist; a device that lists
# only one (V100 and T4 have fp16 only) runs the other's workload at that rate.
_EQUIVALENT_DTYPES = {"bf16": "fp16", "fp16": "bf16"}


# Every number of a device and its plausible range (inputs/bounds.py).
_QUANTITIES = {
    "bandwidth_bytes_per_s": bounds.BANDWIDTH,
    "memory_bytes": bounds.MEMORY,
    "interconnect_bytes_per_s": bounds.INTERCONNECT,
    "compute_efficiency": bounds.EFFICIENCY,
    "bandwidth_efficiency": bounds.EFFICIENCY,
}


@dataclass(frozen=True)
class Hardware:
    name: str
    peak_flops_per_s: dict[str, float]
    bandwidth_bytes_per_s: float
    memory_bytes: float
    interconnect_bytes_per_s: float | None = None
    generation: str = ""  # one of GENERATIONS, or "" (unknown)
    # The scale-up interconnect is a switch that reduces in the network (NVLink SHARP on
    # NVSwitch 3+): an all-reduce then sends each message once instead of 2·(n−1)/n times.
    in_network_reduction: bool = False
    compute_efficiency: float = DEFAULT_COMPUTE_EFFICIENCY
    bandwidth_efficiency: float = DEFAULT_BANDWIDTH_EFFICIENCY
    id: str = ""
    vendor: str = ""
    source: str = ""
    notes: str = ""
    efficiency_table: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        checks.text("name", self.name)
        for name in ("id", "vendor", "source", "notes"):
            checks.string(name, getattr(self, name))
        peaks = self.peak_flops_per_s
        if not isinstance(peaks, Mapping) or not peaks:
            raise TypeError(
                "peak_flops_per_s must map compute dtypes to FLOP/s, got "
                f"{bounds.show(peaks)} ({type(peaks).__name__})"
            )
        checked = {}
        for dtype, peak in peaks.items():
            if not isinstance(dtype, str) or dtype not in COMPUTE_DTYPES:
                raise ValueError(
                    f"peak_flops_per_s has unknown dtype {bounds.show(dtype)}; known: "
                    f"{', '.join(COMPUTE_DTYPES)}"
                )
            checked[dtype] = bounds.quantity(f"peak_flops_per_s.{dtype}", peak, bounds.PEAK_FLOPS)
        object.__setattr__(self, "peak_flops_per_s", checked)
        for name, bound in _QUANTITIES.items():
            if name != "interconnect_bytes_per_s" or self.interconnect_bytes_per_s is not None:
                object.__setattr__(self, name, bounds.quantity(name, getattr(self, name), bound))
        table = self.efficiency_table
        if table is not None and not isinstance(table, dict):
            raise TypeError(
                "efficiency_table must be a dict (a measured profile's table) or None, got "
                f"{bounds.show(table)} ({type(table).__name__})"
            )
        if self.generation != "":
            checks.choice("generation", self.generation, GENERATIONS)
        checks.boolean("in_network_reduction", self.in_network_reduction)

    def compute_dtype_for(self, dtype: str) -> str:
        """The dtype whose peak a ``dtype`` matmul runs at on this device.

        Raises ValueError naming the dtype and the device's dtypes when it has no such
        peak (e.g. fp8 on an A100), rather than silently substituting another rate.
        """
        if dtype in self.peak_flops_per_s:
            return dtype
        twin = _EQUIVALENT_DTYPES.get(dtype)
        if twin in self.peak_flops_per_s:
            return twin
        raise ValueError(
            f"hardware {self.name!r} lists no {dtype} peak (it has "
            f"{', '.join(sorted(self.peak_flops_per_s))}); choose another activation dtype"
        )

    def peak_for(self, dtype: str) -> float:
        """Dense peak FLOP/s for a matmul whose activations are ``dtype``."""
        return self.peak_flops_per_s[self.compute_dtype_for(dtype)]

    def ridge_point(self, dtype: str) -> float:
        """FLOP/byte at which compute and memory time are equal: peak / bandwidth."""
        return self.peak_for(dtype) / self.bandwidth_bytes_per_s
