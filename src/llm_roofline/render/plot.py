"""The roofline plot of a ``Report`` (PNG or SVG, chosen by the file's extension).

Log-log: x is arithmetic intensity (FLOP/byte), y attainable FLOP/s. One compute roof per
dtype the device lists (the report's compute dtype drawn solid), the bandwidth slope, the
ridge point marked; every operator of each phase as a point on the roof (its FLOPs over
its ideal time), sized by its share of the phase's time; the two phase totals as stars.

matplotlib is imported inside ``plot_roofline`` only (an optional dependency, and slow to
import), through its object-oriented API with the Agg canvas: no pyplot, no global state,
no display needed. ``plot_format`` checks a path without importing anything.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..engine.report import Phase, Report
from ..inputs.units import format_flops_per_s
from .text import number

PLOT_FORMATS = ("png", "svg")
PHASE_STYLE = {"prefill": ("tab:blue", "o"), "decode": ("tab:orange", "s")}
LABEL_SHARE = 0.08  # operators at least this share of their phase's time get a name label
# Where successive labels go (points, horizontal alignment), so neighbours do not collide.
LABEL_OFFSETS = ((8, -14, "left"), (8, 8, "left"), (8, -26, "left"), (8, 20, "left"))


def plot_format(path: str | os.PathLike[str]) -> str:
    """The plot format a path asks for, from its extension; ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise ValueError(
            f"cannot plot to {os.fspath(path)!r}: the file must end in "
            f"{' or '.join('.' + f for f in PLOT_FORMATS)}"
        )
    return suffix


def _points(phase: Phase) -> list[tuple[str, float, float, float]]:
    """(names, AI, FLOP/s on the roof, share of phase time) of the plottable operators.

    Operators that land on the same spot (gate_proj, up_proj and down_proj, say) are
    merged into one point whose share is their sum, so the areas stay honest.
    """
    merged: dict[tuple[float, float], tuple[list[str], float, float, float]] = {}
    for row in phase.operators:
        ai = row.arithmetic_intensity
        if ai is None or ai <= 0 or row.flops <= 0 or row.time_s <= 0:
            continue  # no FLOPs (a gather) or no bytes: nowhere on log axes
        share = row.time_s / phase.time_s if phase.time_s else 0.0
        y = row.flops / row.time_s
        key = (round(math.log10(ai), 2), round(math.log10(y), 2))
        names, _, _, total = merged.get(key, ([], ai, y, 0.0))
        merged[key] = ([*names, row.name], ai, y, total + share)
    return [(_names(n), ai, y, share) for n, ai, y, share in merged.values()]


def _names(names: list[str]) -> str:
    return "+".join(names) if len(names) <= 2 else f"{names[0]}+{len(names) - 1} more"


def _x_range(report: Report) -> tuple[float, float]:
    xs = [report.ridge_point]
    for phase in report.phases.values():
        xs += [ai for _, ai, _, _ in _points(phase)]
        if phase.arithmetic_intensity:
            xs.append(phase.arithmetic_intensity)
    return min(xs) / 4, max(xs) * 4


def _roofs(ax: Any, report: Report, xs: list[float]) -> None:
    bandwidth = report.bandwidth_bytes_per_s
    by_peak: dict[float, list[str]] = {}
    for dtype, peak in report.hardware["peak_flops_per_s"].items():
        by_peak.setdefault(peak, []).append(dtype)
    for peak, dtypes in sorted(by_peak.items(), reverse=True):
        main = report.compute_dtype in dtypes
        ax.plot(
            xs,
            [min(peak, bandwidth * x) for x in xs],
            color="black" if main else "grey",
            linewidth=2.0 if main else 0.8,
            linestyle="-" if main else "--",
            label=f"{'/'.join(dtypes)} roof {format_flops_per_s(peak)}",
            zorder=1,
        )
    ridge = report.ridge_point
    ax.axvline(ridge, color="black", linestyle=":", linewidth=0.8, zorder=1)
    ax.annotate(
        f"ridge point {ridge:,.0f} FLOP/byte",
        (ridge, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -12),
        textcoords="offset points",
        ha="right",
        fontsize=8,
    )


def _phase_points(ax: Any, name: str, phase: Phase) -> None:
    color, marker = PHASE_STYLE.get(name, ("tab:green", "^"))
    points = _points(phase)
    ax.scatter(
        [p[1] for p in points],
        [p[2] for p in points],
        s=[15 + 600 * p[3] for p in points],
        color=color,
        marker=marker,
        alpha=0.55,
        edgecolors="none",
        label=f"{name} operators (area ∝ time share)",
        zorder=2,
    )
    labelled = sorted((p for p in points if p[3] >= LABEL_SHARE), key=lambda p: p[1])
    for i, (op, ai, flops_per_s, share) in enumerate(labelled):
        dx, dy, align = LABEL_OFFSETS[i % len(LABEL_OFFSETS)]
        ax.annotate(
            f"{op} {share:.0%}", (ai, flops_per_s), fontsize=7, xytext=(dx, dy), ha=align,
            textcoords="offset points", color=color,
        )  # fmt: skip
    if phase.arithmetic_intensity and phase.time_s > 0:
        ax.scatter(
            [phase.arithmetic_intensity],
            [phase.flops / phase.time_s],
            s=260,
            marker="*",
            color=color,
            edgecolors="black",
            linewidths=0.8,
            label=f"{name} total: {phase.bound}, AI {number(phase.arithmetic_intensity)}",
            zorder=3,
        )


def plot_roofline(report: Report, path: str | os.PathLike[str]) -> Path:
    """Draw the report's roofline into ``path`` (.png or .svg); returns the path written."""
    fmt = plot_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import EngFormatter
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'llm-roofline[plot]'") from exc
    fig = Figure(figsize=(9, 6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo, hi = _x_range(report)
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    _roofs(ax, report, xs)
    for name, phase in report.phases.items():
        _phase_points(ax, name, phase)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("attainable performance (FLOP/s)")
    ax.yaxis.set_major_formatter(EngFormatter(unit="FLOP/s"))
    w = report.workload
    ax.set_title(
        f"{report.model['name']} on {report.hardware['name']} — batch {w['batch_size']}, "
        f"prompt {w['prompt_len']}, context {w['context_len']}, {report.compute_dtype}",
        fontsize=10,
    )
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=7, loc="lower right")
    out = Path(path)
    fig.savefig(out, format=fmt, dpi=120)
    return out
