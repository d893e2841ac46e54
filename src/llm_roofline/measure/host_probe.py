"""A one-second probe of the host's speed: a GEMM per dtype and a DRAM read (torch).

``measure`` records it in the profile (``machine.host_probe``); ``validate`` runs it
again before every round of points and compares (``validate/drift.py``): on a shared
host the speed drifts by 1.3-1.5x between spells of minutes, and a prediction made for
the profile's spell is then compared with a measurement taken in another.

- GEMM: (n, n) @ (n, n), 2·n³ FLOPs, n = 512 (0.27 GFLOP: a few ms with AVX-512 or
  AMX, 0.3 s where bf16 is emulated), the fastest of ``CALLS`` calls: FLOP/s.
- read: ``torch.mv`` of a fp32 (N/1024, 1024) matrix with a ones vector, every element
  read once (4·N bytes; the vector and the output are negligible), N·4 bytes = max(256
  MiB, 2 × LLC) capped at 1 GiB so it streams from DRAM: the fastest of ``CALLS``: bytes/s.
``quick`` (``measure --quick``): n = 128 and 8 MiB, a check of the machinery only.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

CALLS = 5
GEMM_N = 512
MiB = 1 << 20


@dataclass(frozen=True)
class HostSpeed:
    gemm_flops_per_s: dict[str, float]  # by dtype
    read_bytes_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "gemm_flops_per_s": dict(self.gemm_flops_per_s),
            "read_bytes_per_s": self.read_bytes_per_s,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "host_probe") -> HostSpeed:
        """Parse a recorded probe; ValueError naming the field when malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {data!r}")
        gemm = data.get("gemm_flops_per_s")
        read = data.get("read_bytes_per_s")
        if not isinstance(gemm, dict) or not gemm:
            raise ValueError(f"{where}.gemm_flops_per_s: expected {{dtype: FLOP/s}}, got {gemm!r}")
        for dtype, value in gemm.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{where}.gemm_flops_per_s.{dtype}: must be > 0, got {value!r}")
        if isinstance(read, bool) or not isinstance(read, (int, float)) or not read > 0:
            raise ValueError(f"{where}.read_bytes_per_s: must be > 0, got {read!r}")
        return cls({str(k): float(v) for k, v in gemm.items()}, float(read))


def _fastest(call: Any, calls: int = CALLS) -> float:
    best = float("inf")
    for _ in range(calls):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


class HostProbe:
    """Holds the probe's tensors (allocated once) and measures the host on each call."""

    def __init__(
        self, dtypes: tuple[str, ...], llc_bytes: int, device: str = "cpu", quick: bool = False
    ) -> None:
        import torch

        from .torch_backend import TORCH_DTYPES

        self.device = device
        self.gemms: dict[str, tuple[int, Any, Any]] = {}
        for dtype in dtypes:
            n = 128 if quick else GEMM_N
            a = torch.randn(n, n, device=device).to(TORCH_DTYPES[dtype])
            self.gemms[dtype] = (n, a, a.clone())
        nbytes = 8 * MiB if quick else min(1024 * MiB, max(256 * MiB, 2 * llc_bytes))
        self.matrix = torch.ones(nbytes // 4 // 1024, 1024, device=device)
        self.ones = torch.ones(1024, device=device)

    def _timed(self, call: Any) -> float:
        """The fastest of CALLS runs of ``call`` (synchronized on a GPU)."""
        import torch

        def run() -> None:
            call()
            if self.device == "cuda":
                torch.cuda.synchronize()

        run()  # warm-up
        return _fastest(run)

    def measure(self) -> HostSpeed:
        import torch

        with torch.inference_mode():
            gemm = {
                dtype: 2.0 * n**3 / self._timed(lambda a=a, b=b: torch.mm(a, b))
                for dtype, (n, a, b) in self.gemms.items()
            }
            read_s = self._timed(lambda: torch.mv(self.matrix, self.ones))
        return HostSpeed(gemm, 4.0 * self.matrix.numel() / read_s)


def host_probe(
    backend: str, dtypes: tuple[str, ...], llc: int, device: str, quick: bool
) -> HostProbe | None:
    """The probe ``measure`` runs (torch only; None for the numpy backend)."""
    return HostProbe(dtypes, llc, device, quick) if backend == "torch" else None


def merge_speeds(speeds: list[Any], statistic: str) -> dict[str, Any]:
    """The host probe of the spell the profile describes: the fastest of the probes taken
    before, between and after the passes under ``min`` (the profile keeps each probe's
    fastest pass), their median otherwise; with every probe for the record."""
    pick = max if statistic == "min" else statistics.median
    dtypes = speeds[0].gemm_flops_per_s
    return {
        "gemm_flops_per_s": {d: float(pick(s.gemm_flops_per_s[d] for s in speeds)) for d in dtypes},
        "read_bytes_per_s": float(pick(s.read_bytes_per_s for s in speeds)),
        "probes": [s.to_dict() for s in speeds],
    }
