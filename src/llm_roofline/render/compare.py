"""Side-by-side table of several reports (devices, models, or both), with the ratio of
every numeric cell to the first column's (a display ratio of two report fields)."""

from __future__ import annotations

import csv
import io
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
    key: str  # the CSV column (SI units)


@dataclass(frozen=True)
class Label:
    label: str
    value: Callable[[Report], str]
    key: str


def _phase(name: str, field: str) -> Callable[[Report], float | None]:
    return lambda r: getattr(r.phases[name], field)


ROWS: tuple[Row | Label, ...] = (
    Label("model", lambda r: str(r.model["name"]), "model"),
    Label("hardware", lambda r: str(r.hardware["name"]), "hardware"),
    Row("peak FLOP/s", lambda r: r.peak_flops_per_s, format_flops_per_s, "peak_flops_per_s"),
    Row(
        "bandwidth", lambda r: r.bandwidth_bytes_per_s, format_bytes_per_s, "bandwidth_bytes_per_s"
    ),
    Row("ridge point (FLOP/byte)", lambda r: r.ridge_point, number, "ridge_point"),
    Label("prefill bound", lambda r: r.prefill.bound, "prefill_bound"),
    Row(
        "prefill FLOP/byte",
        _phase("prefill", "arithmetic_intensity"),
        number,
        "prefill_arithmetic_intensity",
    ),
    Row("TTFT", lambda r: r.metrics.ttft_s, format_seconds, "ttft_s"),
    Row("prompt tokens/s", lambda r: r.metrics.prefill_tokens_per_s, count, "prefill_tokens_per_s"),
    Label("decode bound", lambda r: r.decode.bound, "decode_bound"),
    Row(
        "decode FLOP/byte",
        _phase("decode", "arithmetic_intensity"),
        number,
        "decode_arithmetic_intensity",
    ),
    Row("TPOT", lambda r: r.metrics.tpot_s, format_seconds, "tpot_s"),
    Row("decode tokens/s", lambda r: r.metrics.tokens_per_s, count, "decode_tokens_per_s"),
    Row("request time", lambda r: r.metrics.request.total_s, format_seconds, "request_s"),
    Row("prefill MFU", lambda r: r.metrics.mfu["prefill"], percent, "prefill_mfu"),
    Row("decode MBU", lambda r: r.metrics.mbu["decode"], percent, "decode_mbu"),
    Row("memory needed", lambda r: r.metrics.memory.total_bytes, format_bytes, "memory_bytes"),
    Label("fits", lambda r: "yes" if r.metrics.memory.fits else "NO", "fits"),
    Row("critical batch", lambda r: r.metrics.critical_batch_size, count, "critical_batch_size"),
    Row("critical prompt", lambda r: r.metrics.critical_prompt_len, count, "critical_prompt_len"),
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


def compare_csv(columns: Sequence[tuple[str, Report]]) -> str:
    """One line per (heading, report): the same rows as the table, in SI units, no ratios."""
    if not columns:
        raise ValueError("nothing to compare")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["column", *(row.key for row in ROWS)])
    for heading, report in columns:
        cells = []
        for row in ROWS:
            value = row.value(report)
            if row.key == "fits":
                value = str(report.metrics.memory.fits).lower()
            cells.append("" if value is None else value)
        writer.writerow([heading, *cells])
    return out.getvalue()
