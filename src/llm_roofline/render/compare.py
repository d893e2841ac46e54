"""Side-by-side table of several reports (devices, models, or both), with the ratio of
every numeric cell to the first column's (a display ratio of two report fields)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..engine.report import Report
from ..inputs.units import format_bytes, format_bytes_per_s, format_flops_per_s, format_seconds
from .table import grid
from .text import count, number, percent, times


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Report], float | int | None]
    text: Callable[[float], str]


@dataclass(frozen=True)
class Label:
    label: str
    value: Callable[[Report], str]


def _phase(name: str, field: str) -> Callable[[Report], float | None]:
    return lambda r: getattr(r.phases[name], field)


ROWS: tuple[Row | Label, ...] = (
    Label("model", lambda r: str(r.model["name"])),
    Label("hardware", lambda r: str(r.hardware["name"])),
    Row("peak FLOP/s", lambda r: r.peak_flops_per_s, format_flops_per_s),
    Row("bandwidth", lambda r: r.bandwidth_bytes_per_s, format_bytes_per_s),
    Row("ridge point (FLOP/byte)", lambda r: r.ridge_point, number),
    Label("prefill bound", lambda r: r.prefill.bound),
    Row("prefill FLOP/byte", _phase("prefill", "arithmetic_intensity"), number),
    Row("TTFT", lambda r: r.metrics.ttft_s, format_seconds),
    Row("prompt tokens/s", lambda r: r.metrics.prefill_tokens_per_s, count),
    Label("decode bound", lambda r: r.decode.bound),
    Row("decode FLOP/byte", _phase("decode", "arithmetic_intensity"), number),
    Row("TPOT", lambda r: r.metrics.tpot_s, format_seconds),
    Row("decode tokens/s", lambda r: r.metrics.tokens_per_s, count),
    Row("request time", lambda r: r.metrics.request.total_s, format_seconds),
    Row("prefill MFU", lambda r: r.metrics.mfu["prefill"], percent),
    Row("decode MBU", lambda r: r.metrics.mbu["decode"], percent),
    Row("memory needed", lambda r: r.metrics.memory.total_bytes, format_bytes),
    Label("fits", lambda r: "yes" if r.metrics.memory.fits else "NO"),
    Row("critical batch", lambda r: r.metrics.critical_batch_size, count),
    Row("critical prompt", lambda r: r.metrics.critical_prompt_len, count),
)


def _cell(row: Row, report: Report, first: float | int | None, with_ratio: bool) -> str:
    value = row.value(report)
    if value is None:
        return "none"
    text = row.text(value)
    if with_ratio and first:
        text += f" ({times(value / first)})"
    return text


def compare_table(columns: Sequence[tuple[str, Report]]) -> str:
    """One column per (heading, report); ratios are to the first column."""
    if not columns:
        raise ValueError("nothing to compare")
    headings = ["", *(heading for heading, _ in columns)]
    first = columns[0][1]
    lines = []
    for row in ROWS:
        if isinstance(row, Label):
            lines.append([row.label, *(row.value(r) for _, r in columns)])
            continue
        base = row.value(first)
        lines.append([row.label, *(_cell(row, r, base, i > 0) for i, (_, r) in enumerate(columns))])
    return grid(headings, lines, (False, *[True] * len(columns)))
