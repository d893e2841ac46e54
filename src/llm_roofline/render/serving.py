"""A ``ServingCurve`` as a terminal table or CSV (computes nothing).

A batch that does not fit in memory cannot run, so its table row shows its memory and
``no`` but no latency, throughput or cost; the CSV keeps every number with the ``fits``
column, for programs that want them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import fields

from ..inputs.units import format_bytes, format_seconds
from ..studies.serving import ServingCurve, ServingPoint
from .table import grid

NOT_FIT = "-"  # the cells of a row that does not fit
CSV_COLUMNS: tuple[str, ...] = (
    *(f.name for f in fields(ServingPoint) if f.name != "tpot_range_s"),
    *("tpot_low_s", "tpot_high_s"),  # the likely range as two columns
)


def _header(curve: ServingCurve) -> list[str]:
    par = curve.parallelism
    usable = curve.usable_memory_bytes_per_device / (1 - curve.reserve_fraction)
    largest = "none" if curve.max_batch_size is None else str(curve.max_batch_size)
    lines = [
        f"{curve.model} on {curve.devices} x {curve.hardware} (tensor {par['tensor']}, "
        f"pipeline {par['pipeline']}, expert {par['expert']}, micro-batches "
        f"{par['micro_batches']}): prompt {curve.prompt_len}, output {curve.output_len} tokens",
        f"largest batch that fits: {largest} (reserve {100 * curve.reserve_fraction:g}% of "
        f"{format_bytes(usable)} per device)",
        "decode stays memory-bound at every batch"
        if curve.compute_bound_batch_size is None
        else f"decode turns compute-bound at batch {curve.compute_bound_batch_size}",
    ]
    if curve.chunk_size is not None:
        lines.append(f"TTFT with chunked prefill of {curve.chunk_size} tokens")
    if curve.speculative is not None:
        s = curve.speculative
        lines.append(f"speculative: draft {s['draft']}, k {s['k']}, alpha {s['alpha']}")
    return lines


def _row(curve: ServingCurve, p: ServingPoint) -> list[str]:
    likely = (
        "-"
        if p.tpot_range_s is None
        else f"{format_seconds(p.tpot_range_s[0])}–{format_seconds(p.tpot_range_s[1])}"
    )
    timing = [
        format_seconds(p.ttft_s),
        format_seconds(p.tpot_s),
        likely,
        format_seconds(p.e2e_latency_s),
        f"{p.output_tokens_per_s:,.0f}",
        f"{p.output_tokens_per_s_per_device:,.0f}",
    ]
    extra: list[str] = []
    if curve.price_per_device_hour is not None:
        cost = p.cost_per_million_tokens
        extra.append("-" if cost is None else f"{cost:.3g}")
    if curve.speculative is not None:
        extra += [format_seconds(p.spec_time_per_token_s or 0.0), f"{p.spec_speedup or 0.0:.2f}x"]
    if not p.fits:  # it cannot run: no latency, throughput or cost to show
        timing, extra = [NOT_FIT] * len(timing), [NOT_FIT] * len(extra)
    memory = format_bytes(p.memory_bytes_per_device)
    bound = p.decode_bound.removesuffix("-bound")
    return [str(p.batch_size), *timing, memory, "yes" if p.fits else "no", bound, *extra]


def serving_table(curve: ServingCurve) -> str:
    """A few header lines, then one row per batch size."""
    headers = ["batch", "TTFT", "TPOT", "TPOT likely", "e2e", "tok/s", "tok/s/dev", "mem/dev"]
    headers += ["fits", "decode"]
    if curve.price_per_device_hour is not None:
        headers.append("$/Mtok")
    if curve.speculative is not None:
        headers += ["spec TPOT", "speedup"]
    rows = [_row(curve, p) for p in curve.points]
    right = [h not in ("fits", "decode") for h in headers]
    return "\n".join([*_header(curve), "", grid(headers, rows, right)])


def serving_csv(curve: ServingCurve) -> str:
    """Header line, then one line per batch size with every field of the point (SI units)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in curve.points:
        span = p.tpot_range_s or ("", "")
        values = {"tpot_low_s": span[0], "tpot_high_s": span[1]}
        writer.writerow(
            "" if (v := values[c] if c in values else getattr(p, c)) is None else v
            for c in CSV_COLUMNS
        )
    return out.getvalue()
