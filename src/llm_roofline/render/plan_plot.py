"""The `plan` Pareto plot (PNG or SVG): tokens/s per device against tokens/s per user.

Every searched deployment that fits in memory is a dot (blue: meets the limits; grey:
does not); the Pareto frontier is a line; the TPOT limit is a vertical line at 1 / TPOT
(the per-user rate it allows: points left of it fail); the chosen deployment is a star,
and the best disaggregated one a diamond when it was searched. matplotlib is imported
inside ``plot_plan`` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..studies.plan_result import PlanResult
from .plot import plot_format


def plot_plan(result: PlanResult, path: str | os.PathLike[str]) -> Path:
    """Draw ``result`` into ``path`` (.png or .svg); returns the path written."""
    fmt = plot_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'llm-roofline[plot]'") from exc
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    _cloud(ax, result)
    _marks(ax, result)
    ttft = result.sla.get("ttft_s")
    note = f" (TTFT limit {ttft * 1e3:g} ms: points over it are grey)" if ttft else ""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("output tokens/s per user (1 / TPOT)")
    ax.set_ylabel("output tokens/s per device")
    ax.set_title(f"{result.model}: {result.searched:,} deployments searched{note}", fontsize=9)
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=7, loc="best")
    out = Path(path)
    fig.savefig(out, format=fmt, dpi=120)
    return out


def _cloud(ax: Any, result: PlanResult) -> None:
    """Every deployment that fits (blue: meets the limits) and the Pareto frontier."""
    pts = result.points
    for meets, color, label in (
        (False, "0.75", "misses a limit"),
        (True, "tab:blue", "meets the limits"),
    ):
        chosen = pts["meets"] == meets
        xs, ys = pts["tokens_per_s_per_user"][chosen], pts["tokens_per_s_per_device"][chosen]
        ax.scatter(xs, ys, s=8, color=color, label=f"{label} ({len(xs)})", zorder=2)
    front = sorted(result.pareto, key=lambda d: d.tokens_per_s_per_user)
    xs = [d.tokens_per_s_per_user for d in front]
    ys = [d.tokens_per_s_per_device for d in front]
    ax.plot(xs, ys, "-", color="tab:orange", linewidth=1.2, label="Pareto frontier", zorder=3)


def _marks(ax: Any, result: PlanResult) -> None:
    """The TPOT limit as a line, the chosen deployment, the best disaggregated one."""
    tpot = result.sla.get("tpot_s")
    if tpot:
        label = f"TPOT limit {tpot * 1e3:g} ms"
        ax.axvline(1 / tpot, color="tab:red", linestyle="--", linewidth=0.9, label=label, zorder=1)
    best = result.best
    ax.plot(
        best.tokens_per_s_per_user,
        best.tokens_per_s_per_device,
        "*",
        markersize=16,
        color="tab:green",
        markeredgecolor="black",
        label=f"chosen: {best.label()}",
        zorder=4,
    )
    dis = result.disaggregated_best
    if dis is not None and dis is not best:
        ax.plot(
            dis.tokens_per_s_per_user,
            dis.tokens_per_s_per_device,
            "D",
            markersize=8,
            color="tab:purple",
            label="best disaggregated",
            zorder=4,
        )
