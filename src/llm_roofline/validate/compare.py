"""Measured vs predicted: each timed point against the analysis of the same workload.

For every point, ``analyze`` runs on the same model, dtype, batch and length (flash
attention, logits for the last position) on the measured hardware profile, giving the
ideal roofline time (a lower bound), the calibrated expected time (the profile's
efficiency table) and, for reference, the expected time with the project's flat default
efficiencies on the same roofs. error = predicted / measured − 1.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.analyze import analyze
from ..inputs.hardware import DEFAULT_BANDWIDTH_EFFICIENCY, DEFAULT_COMPUTE_EFFICIENCY, Hardware
from ..inputs.model import Model
from ..inputs.workload import Workload
from .drift import MARGIN, Ratios, normalized, point_ratios, profile_speed, ratios, spread
from .harness import Point, Timed

SAME = Ratios(1.0, 1.0)  # no probe: the prediction as the profile says
SCHEMA = "llm-roofline/validation/v1"


@dataclass(frozen=True)
class Row:
    model: str
    dtype: str
    phase: str
    batch: int
    tokens: int  # prefill: prompt length; decode: context (tokens cached)
    measured_s: float
    ideal_s: float
    calibrated_s: float
    flat_s: float  # flat default efficiencies on the same roofs
    runs: int = 0  # timed runs behind measured_s
    quiet_runs: int = 0  # of which ran with no other process beside them
    spread: float = 0.0  # (slowest − fastest) / median of the timed runs
    # Host probe of the point's run(s) against the profile's (drift.py): now / profile.
    # ideal_s and calibrated_s are normalized by them; the raw_ values are not.
    compute_ratio: float = 1.0
    memory_ratio: float = 1.0
    raw_ideal_s: float = 0.0
    raw_calibrated_s: float = 0.0

    @property
    def host_slower_by(self) -> float:
        """How much slower than when the profile was measured the host ran (0: not)."""
        return max(0.0, 1 - min(self.compute_ratio, self.memory_ratio))

    @property
    def ideal_error(self) -> float:
        return self.ideal_s / self.measured_s - 1

    @property
    def calibrated_error(self) -> float:
        return self.calibrated_s / self.measured_s - 1

    @property
    def flat_error(self) -> float:
        return self.flat_s / self.measured_s - 1


@dataclass(frozen=True)
class Summary:
    dtype: str
    phase: str
    points: int
    calibrated_median_abs_error: float
    calibrated_worst_abs_error: float
    flat_median_abs_error: float
    ideal_median_error: float
    ideal_never_above: bool


@dataclass(frozen=True)
class Validation:
    rows: tuple[Row, ...]
    summary: tuple[Summary, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rows = [
            dataclasses.asdict(r)
            | {
                "ideal_error": r.ideal_error,
                "calibrated_error": r.calibrated_error,
                "flat_error": r.flat_error,
            }
            for r in self.rows
        ]
        return {
            "schema": SCHEMA,
            "meta": self.meta,
            "rows": rows,
            "summary": [dataclasses.asdict(s) for s in self.summary],
        }


def workload_for(point: Point, engine: str = "generic") -> Workload:
    """The analysis workload of one timed point (its phase is read from the report)."""
    return Workload(
        engine=engine,
        batch_size=point.batch,
        prompt_len=max(1, point.tokens),
        context_len=point.tokens,
        output_len=0,
        weight_dtype=point.dtype,
        activation_dtype=point.dtype,
        kv_dtype=point.dtype,
        attention="flash",
        logits="last",
    )


def predict(
    m: Model, hw: Hardware, point: Point, engine: str = "generic", r: Ratios = SAME
) -> tuple[float, float]:
    """(ideal, expected) seconds of the point's phase, normalized by the host ratios."""
    phase = analyze(m, hw, workload_for(point, engine)).phases[point.phase]
    if r == SAME:
        return phase.time_s, phase.expected_time_s
    return normalized(phase, r)


def flat_hardware(hw: Hardware) -> Hardware:
    """The same roofs without the table, at the project's default flat efficiencies."""
    return dataclasses.replace(
        hw,
        efficiency_table=None,
        compute_efficiency=DEFAULT_COMPUTE_EFFICIENCY,
        bandwidth_efficiency=DEFAULT_BANDWIDTH_EFFICIENCY,
    )


def compare(
    m: Model, hw: Hardware, timed: Sequence[Timed], engine: str = "generic",
    statistic: str = "median",
) -> list[Row]:  # fmt: skip
    """Rows of measured vs predicted; with the host probe (drift.py) when the profile has
    one and the runs carry theirs."""
    flat = flat_hardware(hw)
    reference = profile_speed(hw.efficiency_table)
    rows = []
    for t in timed:
        p = t.point
        r = SAME
        if reference is not None and t.speeds:
            per_run = [ratios(speed, reference, p.dtype) for speed in t.speeds]
            r = point_ratios(per_run, t.times_s, statistic)
        raw_ideal, raw_calibrated = predict(m, hw, p, engine)
        ideal, calibrated = predict(m, hw, p, engine, r)
        _, flat_s = predict(m, flat, p, "generic", r)
        spread = (max(t.times_s) - min(t.times_s)) / t.measured_s if t.times_s else 0.0
        rows.append(
            Row(
                m.name,
                p.dtype,
                p.phase,
                p.batch,
                p.tokens,
                t.measured_s,
                ideal,
                calibrated,
                flat_s,
                len(t.times_s),
                t.quiet,
                spread,
                r.compute,
                r.memory,
                raw_ideal,
                raw_calibrated,
            )
        )
    return rows


def summarize(rows: Sequence[Row]) -> tuple[Summary, ...]:
    """Per (dtype, phase): median and worst |calibrated error|, and the ideal's sign."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.dtype, r.phase), []).append(r)
    out = []
    for (dtype, phase), rs in groups.items():
        cal = [abs(r.calibrated_error) for r in rs]
        out.append(
            Summary(
                dtype=dtype,
                phase=phase,
                points=len(rs),
                calibrated_median_abs_error=statistics.median(cal),
                calibrated_worst_abs_error=max(cal),
                flat_median_abs_error=statistics.median(abs(r.flat_error) for r in rs),
                ideal_median_error=statistics.median(r.ideal_error for r in rs),
                ideal_never_above=all(r.ideal_s <= r.measured_s for r in rs),
            )
        )
    return tuple(out)


def validation(rows: Sequence[Row], meta: dict[str, Any]) -> Validation:
    return Validation(tuple(rows), summarize(rows), meta)


def host_meta(rows: Sequence[Row], reprobes: int | None) -> dict[str, Any] | None:
    """The host probe's spread over the points (now / profile; drift.py) for the output:
    GEMM ratios by dtype, the read ratio, the points run on a host slower than the
    profile by more than the margin, the re-probes; None when no probe ran."""
    if reprobes is None:
        return None
    gemm: dict[str, list[float]] = {}
    for r in rows:
        gemm.setdefault(r.dtype, []).append(r.compute_ratio)
    return {
        "normalized": True,
        "margin": MARGIN,
        "gemm_ratio": {d: spread(v) for d, v in gemm.items()},
        "read_ratio": spread([r.memory_ratio for r in rows]),
        "points_slower_than_margin": sum(1 for r in rows if r.host_slower_by > MARGIN),
        "reprobes": reprobes,
    }


def host_drift_warning(v: Validation) -> str | None:
    """A warning when points ran on a host slower than the profile by more than the margin
    (their predictions are normalized, but the normalization is an approximation)."""
    slow = [r for r in v.rows if r.host_slower_by > MARGIN]
    if not slow:
        return None
    worst = max(r.host_slower_by for r in slow)
    return (
        f"the host ran slower than when the profile was measured: {len(slow)} of "
        f"{len(v.rows)} points by more than {MARGIN:.0%} (up to {worst:.0%}) even after "
        "re-probing; their predictions are normalized by the host probe (GEMM and DRAM "
        "read now / in the profile), raw predictions are in the JSON (raw_calibrated_s)"
    )


LOADED_SPREAD = 0.25  # a point's (slowest − fastest) / median run beyond which it is noisy
LOADED_SHARE = 0.25  # the share of noisy points from which the host counts as loaded


def host_load_warning(v: Validation) -> str | None:
    """A warning when the repeats of many points spread widely: a loaded host, whose noise
    the errors then carry (None when the runs agree, or too few points ran twice)."""
    rows = [r for r in v.rows if r.runs >= 2]
    noisy = [r for r in rows if r.spread > LOADED_SPREAD]
    if not rows or len(noisy) < LOADED_SHARE * len(rows):
        return None
    median = statistics.median(r.spread for r in rows)
    quiet = sum(r.quiet_runs for r in rows) / sum(r.runs for r in rows)
    return (
        f"the host looks loaded: the timed runs of {len(noisy)} of {len(rows)} points spread "
        f"by more than {LOADED_SPREAD:.0%} (median spread {median:.0%}; {quiet:.0%} of the "
        "runs had no other process beside them), so the errors mix the model's error with "
        "the machine's noise; rerun on a quiet machine, with more --repeats, or with "
        "--statistic min"
    )
