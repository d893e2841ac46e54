"""The serving curve as a figure (PNG or SVG): throughput against latency, and latency by batch.

Left: output tokens per second per device against end-to-end latency, one point per batch
size (labelled), hollow where the batch does not fit in memory. Right: TTFT and TPOT by
batch size (log-log), with the largest batch that fits and the batch at which decode turns
compute-bound marked. matplotlib is imported inside ``plot_serving_curve`` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..studies.serving import ServingCurve
from .plot import plot_format


def plot_serving_curve(curve: ServingCurve, path: str | os.PathLike[str]) -> Path:
    """Draw ``curve`` into ``path`` (.png or .svg); returns the path written."""
    fmt = plot_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'llm-roofline[plot]'") from exc
    fig = Figure(figsize=(12, 5), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    _throughput_panel(left, curve)
    _latency_panel(right, curve)
    par = curve.parallelism
    fig.suptitle(
        f"{curve.model} on {curve.devices}× {curve.hardware} (tp {par['tensor']}, pp "
        f"{par['pipeline']}, ep {par['expert']}) — prompt {curve.prompt_len}, output "
        f"{curve.output_len}",
        fontsize=10,
    )
    out = Path(path)
    fig.savefig(out, format=fmt, dpi=120)
    return out


def _throughput_panel(ax: Any, curve: ServingCurve) -> None:
    """Output tokens/s per device against end-to-end latency, one labelled point per batch."""
    points = curve.points
    for p in points:
        face = "tab:blue" if p.fits else "none"
        ax.plot(
            p.e2e_latency_s,
            p.output_tokens_per_s_per_device,
            "o",
            color="tab:blue",
            markerfacecolor=face,
        )
        ax.annotate(
            str(p.batch_size),
            (p.e2e_latency_s, p.output_tokens_per_s_per_device),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    xs = [p.e2e_latency_s for p in points]
    ax.plot(
        xs, [p.output_tokens_per_s_per_device for p in points], "-", color="tab:blue", linewidth=0.8
    )
    ax.set_xlabel("end-to-end latency per request (s)")
    ax.set_ylabel("output tokens/s per device")
    ax.set_title("throughput vs latency (labels: batch; hollow: does not fit)", fontsize=9)
    ax.grid(True, linewidth=0.3)


def _latency_panel(ax: Any, curve: ServingCurve) -> None:
    """TTFT and TPOT by batch, with the largest batch that fits and the compute-bound batch."""
    batches = [p.batch_size for p in curve.points]
    ax.plot(batches, [p.ttft_s for p in curve.points], "o-", label="TTFT")
    ax.plot(batches, [p.tpot_s for p in curve.points], "s-", label="TPOT")
    if curve.max_batch_size is not None:
        label = f"max batch that fits ({curve.max_batch_size})"
        ax.axvline(
            curve.max_batch_size, color="tab:red", linestyle="--", linewidth=0.8, label=label
        )
    if curve.compute_bound_batch_size is not None:
        label = f"decode compute-bound ({curve.compute_bound_batch_size})"
        ax.axvline(
            curve.compute_bound_batch_size,
            color="tab:green",
            linestyle=":",
            linewidth=0.8,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds")
    ax.set_title("latency by batch", fontsize=9)
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=7)
