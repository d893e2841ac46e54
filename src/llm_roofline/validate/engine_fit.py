"""Engine profiles fitted on the published runs (``published.py``), and their
leave-one-out cross-validation: ``catalog/data/efficiency/engines.json``.

The generation tables describe kernels (the hopper table: TensorRT-LLM's, measured on an
H100). An engine profile says how one engine differs, with as few numbers as its runs
can carry (``FITTED``): fixed costs per pass and per request (host time the operators do
not show), and where the runs demand it a scale of the memory efficiency of its
weight-only-quantized matmuls or a ceiling on the FLOP/s its matmuls reach. Each number
is fitted only on that engine's runs of the phase it affects, minimizing
Σ log²(expected / measured):

- overheads are additive, so for given scales the best one is a 1-D search (exact: no
  re-analysis);
- scales and ceilings change the analysis: a log-spaced grid over their range, then a
  finer grid around the best value, the overhead re-optimized at every candidate.

Leave-one-out: every run is predicted by the profiles fitted without it (its engine's
numbers refitted; the kernel tables never see a published run). The 10th and 90th
percentiles of measured / expected over those predictions, per phase, are the range
factors shipped with the profiles. ``python -m llm_roofline.validate.engine_fit``
rewrites engines.json (``--report`` also prints the cross-validated table).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..catalog.efficiency import engine_profiles, generation_table
from .published import PublishedRow, hardware_of, predict, with_engine
from .published_runs import RUNS, Run

ENGINES_FILE = (
    Path(__file__).resolve().parents[1] / "catalog" / "data" / "efficiency" / "engines.json"
)
# engine -> phase -> the numbers fitted on that engine's runs of that phase
FITTED: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {"decode": ("step_overhead_s",), "prefill": ("request_overhead_s",)},
    "gpt-fast": {"decode": ("quantized_memory_scale", "step_overhead_s")},
    "llama.cpp": {
        "decode": ("memory_scale", "step_overhead_s"),
        "prefill": ("compute_cap_flops_per_s",),
    },
}
OVERHEADS = ("step_overhead_s", "request_overhead_s")
RANGES = {
    "memory_scale": (0.3, 1.5),
    "quantized_memory_scale": (0.3, 1.5),
    "compute_cap_flops_per_s": (1e13, 1e16),
}
GRID = 13
SIGNIFICANT = 3


def _round(x: float) -> float:
    return 0.0 if x == 0 else float(f"{x:.{SIGNIFICANT - 1}e}")


def _loss(pred: Sequence[float], measured: Sequence[float]) -> float:
    return sum(math.log(p / m) ** 2 for p, m in zip(pred, measured, strict=True))


def _best_overhead(base: Sequence[float], measured: Sequence[float], bound: float) -> float:
    """The overhead s ≥ 0 minimizing Σ log²((base + s) / measured): golden section (convex
    in s for s ≥ 0 once past the smallest base, and flat-bottomed at worst)."""
    lo, hi = 0.0, bound
    g = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if _loss([x + a for x in base], measured) <= _loss([x + b for x in base], measured):
            hi = b
        else:
            lo = a
    s = (lo + hi) / 2
    return s if _loss([x + s for x in base], measured) < _loss(base, measured) else 0.0


def _predictions(runs: Sequence[Run], profile: dict[str, Any]) -> list[float]:
    """Expected times of ``runs`` (one engine) with ``profile``, less its overheads."""
    bare = profile | {k: 0.0 for k in OVERHEADS}
    return [predict(r, with_engine(hardware_of(r), r.engine, bare)).expected_s for r in runs]


def _fit_phase(
    runs: Sequence[Run], phase: str, names: tuple[str, ...], profile: dict[str, Any]
) -> dict[str, Any]:
    """``profile`` with ``names`` fitted on ``runs`` (all of one engine and phase)."""
    measured = [r.measured_s for r in runs]
    overhead = next((n for n in names if n in OVERHEADS), None)
    scales = [n for n in names if n not in OVERHEADS]
    bound = max(measured)

    def score(candidate: dict[str, Any]) -> tuple[float, float]:
        base = _predictions(runs, candidate)
        s = _best_overhead(base, measured, bound) if overhead else 0.0
        return _loss([b + s for b in base], measured), s

    best = dict(profile)
    for name in scales:
        lo, hi = RANGES[name]
        for _ in range(2):  # a coarse grid, then a finer one around the best point
            values = [lo * (hi / lo) ** (i / (GRID - 1)) for i in range(GRID)]
            scored = [(score(best | {name: _round(v)})[0], _round(v)) for v in values]
            _, value = min(scored)
            best[name] = value
            step = (hi / lo) ** (1 / (GRID - 1))
            lo, hi = value / step, value * step
    if overhead:
        best[overhead] = _round(score(best)[1])
    return best


def _runs(engine: str, phase: str, exclude: str | None = None) -> list[Run]:
    return [r for r in RUNS if r.engine == engine and r.phase == phase and r.id != exclude]


def fit_profiles(
    exclude: str | None = None, engines: Sequence[str] = tuple(FITTED)
) -> dict[str, dict[str, Any]]:
    """The fitted numbers (``FITTED``) of ``engines``, on all runs but ``exclude``."""
    resolved = _resolved()
    out: dict[str, dict[str, Any]] = {}
    for engine in engines:
        phases = FITTED[engine]
        start = {
            n: 1.0 if n.endswith("scale") else None if n.endswith("per_s") else 0.0
            for n in _numbers(phases)
        }
        profile = resolved[engine] | start
        for phase, names in phases.items():
            runs = _runs(engine, phase, exclude)
            if runs:
                profile = _fit_phase(runs, phase, names, profile)
        out[engine] = {k: profile[k] for k in _numbers(phases)}
    return out


def _numbers(phases: dict[str, tuple[str, ...]]) -> list[str]:
    return [n for names in phases.values() for n in names]


def _resolved() -> dict[str, dict[str, Any]]:
    """Every engine's profile with its inheritance applied (as a generation table has it)."""
    table = generation_table("hopper")
    assert table is not None
    return dict(table["engines"])


def loo_rows() -> list[PublishedRow]:
    """Each run predicted with its engine's numbers fitted without it."""
    rows = []
    for run in RUNS:
        fitted = fit_profiles(run.id, (run.engine,)) if run.engine in FITTED else {}
        hw = hardware_of(run)
        table = hw.efficiency_table
        profile = (table or {}).get("engines", {}).get(run.engine)
        if profile is not None and run.engine in fitted:
            profile = profile | fitted[run.engine]
        rows.append(predict(run, with_engine(hw, run.engine, profile)))
    return rows


def ranges(rows: Sequence[PublishedRow]) -> dict[str, dict[str, Any]]:
    """p10 and p90 of measured / expected per phase (bracketing 1)."""
    out = {}
    for phase in ("prefill", "decode"):
        ratios = sorted(r.run.measured_s / r.expected_s for r in rows if r.run.phase == phase)
        q = statistics.quantiles(ratios, n=10, method="inclusive")
        out[phase] = {
            "low": _round(min(1.0, q[0])),
            "high": _round(max(1.0, q[-1])),
            "runs": len(ratios),
        }
    return out


def write_profiles(path: Path = ENGINES_FILE) -> dict[str, Any]:
    """Refit the numbers in ``FITTED`` and the ranges; every other entry is kept as is."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    fitted = fit_profiles()
    for engine, numbers in fitted.items():
        data["engines"][engine].update(numbers)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    engine_profiles.cache_clear()
    generation_table.cache_clear()
    rows = loo_rows()
    data["ranges"] = ranges(rows)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    engine_profiles.cache_clear()
    generation_table.cache_clear()
    return data


if __name__ == "__main__":
    write_profiles()
    print(f"wrote {ENGINES_FILE}")
    if "--report" in sys.argv:
        from .published import median_abs_error, render_published, within

        rows = loo_rows()
        print(render_published(rows))
        print(f"within x1.5: {within(rows, 1.5):.1%}, median |error| {median_abs_error(rows):.1%}")
