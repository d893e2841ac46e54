"""Host drift: the profile's host-speed probe against the same probe beside each round.

``measure`` records a one-second probe (``measure/host_probe.py``: a GEMM per dtype and a
DRAM read) in ``machine.host_probe``; the harness runs it before every round of points.
For a point, the probe of the round its chosen run came from (the fastest run under
``--statistic min``; under the median, the median probe of its runs) gives two ratios,
now / profile:

    r_c = GEMM FLOP/s (the point's dtype),   r_m = read bytes/s

and the prediction is normalized to the host as it ran: every compute-bound operator row
of the predicted phase divided by r_c, every memory-bound row by r_m, and the fixed
costs (rows with no ideal time: framework and per-pass host time, which are CPU time) by
r_c. The ideal is normalized the same way (it is the roofline of the host as it ran).

A round whose probe finds the host slower than the profile by more than ``MARGIN`` is
re-probed after a pause, up to ``RETRIES`` times (a slow spell of seconds passes), and
the round then runs anyway; its points carry the ratio, and the text output says so.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.report import Phase
from ..engine.roofline import COMPUTE_BOUND
from ..measure.host_probe import HostSpeed as Speed

MARGIN = 0.15  # a host slower than the profile by more than this is flagged and re-probed
RETRIES = 2
PAUSE_S = 2.0
FIXED_ROW_BOUNDS = ("fixed cost",)


def profile_speed(table: Any) -> Speed | None:
    """The profile's probe (``efficiency_table.host_probe``), None for a profile (or a
    preset) without one."""
    if not isinstance(table, dict) or "host_probe" not in table:
        return None
    return Speed.from_dict(table["host_probe"], "efficiency_table.host_probe")


@dataclass(frozen=True)
class Ratios:
    compute: float  # r_c: GEMM now / profile
    memory: float  # r_m: read now / profile

    @property
    def slower_by(self) -> float:
        """How much slower than the profile the host ran (0 when not slower)."""
        return max(0.0, 1 - min(self.compute, self.memory))


def ratios(now: Speed, reference: Speed, dtype: str) -> Ratios:
    gemm_ref = reference.gemm_flops_per_s.get(dtype)
    gemm_now = now.gemm_flops_per_s.get(dtype)
    compute = gemm_now / gemm_ref if gemm_ref and gemm_now else 1.0
    return Ratios(compute, now.read_bytes_per_s / reference.read_bytes_per_s)


def probe_round(
    measure: Callable[[], Speed], reference: Speed, dtypes: Sequence[str]
) -> tuple[Speed, int]:
    """The probe before a round, re-taken (after a pause) while the host is slower than
    the profile by more than MARGIN, at most RETRIES times: (probe, retries taken)."""
    speed = measure()
    for retry in range(RETRIES):
        worst = max(ratios(speed, reference, d).slower_by for d in dtypes)
        if worst <= MARGIN:
            return speed, retry
        time.sleep(PAUSE_S)
        speed = measure()
    return speed, RETRIES


def point_ratios(run_rounds: Sequence[Ratios], times_s: Sequence[float], statistic: str) -> Ratios:
    """The ratios of a point: its fastest run's round (min), else the median of its runs'."""
    if statistic == "min":
        return run_rounds[min(range(len(times_s)), key=lambda k: times_s[k])]
    return Ratios(
        statistics.median(r.compute for r in run_rounds),
        statistics.median(r.memory for r in run_rounds),
    )


def normalized(phase: Phase, r: Ratios) -> tuple[float, float]:
    """(ideal, expected) seconds of ``phase`` on the host as the probe saw it."""
    ideal = expected = 0.0
    for row in phase.operators:
        fixed = row.bound in FIXED_ROW_BOUNDS or row.time_s == 0
        ratio = r.compute if fixed or row.bound == COMPUTE_BOUND else r.memory
        ideal += row.time_s / ratio
        expected += row.expected_time_s / ratio
    return ideal, expected


def spread(values: Sequence[float]) -> dict[str, float]:
    """min / median / max of probe ratios, for the output."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


class RoundProbe:
    """The probe the harness calls before each round: re-probes a slow host (probe_round)
    and keeps count of the retries."""

    def __init__(self, reference: Speed, dtypes: Sequence[str], device: str, llc: int) -> None:
        from ..measure.host_probe import HostProbe

        self.reference, self.dtypes = reference, tuple(dtypes)
        self.probe = HostProbe(self.dtypes, llc, device)
        self.retries = 0

    def __call__(self) -> Speed:
        speed, retries = probe_round(self.probe.measure, self.reference, self.dtypes)
        self.retries += retries
        return speed
