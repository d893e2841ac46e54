"""Terminal tables of a ``Report``: the summary, the operator table, the comparison.

Plain text, no colour, no width beyond what the content needs; long lines (findings,
reasons, warnings) wrap at ``WIDTH`` with a hanging indent. Each function reads reports
and returns a string; printing is the caller's business.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from ..engine.report import ParallelismSummary, Phase, Report
from ..inputs.units import format_bytes, format_bytes_per_s, format_flops, format_flops_per_s
from ..inputs.units import format_seconds as seconds
from .text import count, number, percent, verdicts, workload_line

WIDTH = 100


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns padded to their widest cell; ``right[i]`` right-aligns column i."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


_QUANTITY_SPACE = re.compile(r"(?<=\d) (?=[kMGTPEµn]?(?:B|FLOP|s\b|ms|µs|ns|tokens?))")
_NBSP = "\u00a0"


def wrap(text: str, indent: str = "  ", bullet: str = "", hang: int | None = None) -> str:
    """Fill to ``WIDTH`` without splitting a number from its unit ('302.0 MB')."""
    kept = _QUANTITY_SPACE.sub(_NBSP, text)
    filled = textwrap.fill(
        kept,
        width=WIDTH,
        initial_indent=indent + bullet,
        subsequent_indent=" " * (len(indent + bullet) if hang is None else hang),
        break_on_hyphens=False,
    )
    return filled.replace(_NBSP, " ")


def title(report: Report) -> list[str]:
    hw = report.hardware
    peak = format_flops_per_s(report.peak_flops_per_s)
    bandwidth = format_bytes_per_s(report.bandwidth_bytes_per_s)
    return [
        f"{report.model['name']} on {hw['name']}",
        wrap(f"workload: {workload_line(report)}", indent="", hang=10),
        f"roofs: {peak} {report.compute_dtype}, {bandwidth}; "
        f"ridge point {number(report.ridge_point)} FLOP/byte",
    ]


def phase_table(report: Report) -> str:
    headers = ("phase", "FLOPs", "bytes", "FLOP/byte", "bound", "ideal", "expected", "mem-bound")
    rows = [
        (
            name,
            format_flops(p.flops),
            format_bytes(p.bytes),
            number(p.arithmetic_intensity),
            p.bound,
            seconds(p.time_s),
            seconds(p.expected_time_s),
            percent(p.memory_bound_time_fraction),
        )
        for name, p in report.phases.items()
    ]
    return grid(headers, rows, (False, True, True, True, False, True, True, True))


def metrics_lines(report: Report) -> list[str]:
    m, w = report.metrics, report.workload
    mem, req = m.memory, m.request
    fits = "fits" if mem.fits else "DOES NOT FIT"
    util = "   ".join(
        f"{name} {percent(m.mfu[name])} / {percent(m.mbu[name])}" for name in report.phases
    )
    overhead = (
        f"; {seconds(m.request_overhead_s)} of it per request" if m.request_overhead_s else ""
    )
    items = [
        ("TTFT", f"{seconds(m.ttft_s)}{_likely(m.ttft_range_s)}  ({count(w['batch_size'])} "
                 f"prompt{'s' if w['batch_size'] != 1 else ''} prefilled together; {count(m.prefill_tokens_per_s)} prompt "
                 f"tokens/s{overhead})"),
        ("TPOT", f"{seconds(m.tpot_s)}{_likely(m.tpot_range_s)}  ({count(m.tokens_per_s)} "
                 f"tokens/s at batch {count(w['batch_size'])})"),
        ("request", f"{seconds(req.total_s)} = prefill {seconds(req.prefill_s)} + "
                    f"{count(req.decode_steps)} steps {seconds(req.decode_s)} "
                    f"(ideal {seconds(req.ideal_total_s)}); "
                    f"{count(req.output_tokens_per_s)} output tokens/s"),
        ("MFU / MBU", util),
        ("memory", f"{format_bytes(mem.total_bytes)} of {format_bytes(mem.capacity_bytes)}: "
                   f"{fits} (weights {format_bytes(mem.weight_bytes)}, KV cache "
                   f"{format_bytes(mem.kv_cache_bytes)}, activations "
                   f"{format_bytes(mem.activation_bytes)})"),
        ("critical batch", f"{_or_none(m.critical_batch_size)}: {m.critical_batch_size_reason}"),
        ("critical prompt", f"{_or_none(m.critical_prompt_len)}: {m.critical_prompt_len_reason}"),
    ]  # fmt: skip
    note = report.hardware.get("calibration_note")
    if note:
        items.append(("expected time", str(note).removeprefix("expected time: ")))
    width = max(len(k) for k, _ in items) + 2
    return [wrap(value, indent=f"  {key:<{width}}", hang=width + 2) for key, value in items]


def _likely(span: tuple[float, float] | None) -> str:
    """', likely 5.8 ms–7.4 ms' (the p10–p90 range), or nothing without one."""
    return "" if span is None else f", likely {seconds(span[0])}–{seconds(span[1])}"


def _or_none(value: int | None) -> str:
    return "none" if value is None else count(value)


def operator_table(phase: Phase) -> str:
    """Every operator row of one phase, with its share of the phase's ideal time."""
    headers = ["operator", "count", "FLOPs", "weights", "act", "KV", "FLOP/byte", "bound"]
    headers += ["time", "share"]
    rows = [
        (
            r.name,
            count(r.count),
            format_flops(r.flops),
            format_bytes(r.weight_bytes),
            format_bytes(r.activation_bytes),
            format_bytes(r.kv_bytes),
            number(r.arithmetic_intensity),
            r.bound.removesuffix("-bound"),
            seconds(r.time_s),
            percent(r.time_s / phase.time_s if phase.time_s else 0.0),
        )
        for r in phase.operators
    ]
    return grid(headers, rows, (False, *[True] * 6, False, True, True))


def parallelism_lines(p: ParallelismSummary) -> list[str]:
    """The layout, and what the phase rows below describe (one device)."""
    layout = f"{p.devices} devices: tensor {p.tensor} × pipeline {p.pipeline}"
    if p.expert > 1:
        layout += f", expert {p.expert}"
    if p.pipeline > 1:
        layout += f", {p.micro_batches} micro-batches"
    lines = [layout, "phases and memory below are per device (the bottleneck stage's)"]
    for phase in ("prefill", "decode"):
        lines.append(
            f"  {phase:8s} {format_flops(p.per_device_flops[phase])} per device, "
            f"{format_flops(p.system_flops[phase])} on all devices; "
            f"sends {format_bytes(p.comm_bytes[phase])}; latency {seconds(p.latency_s[phase])}; "
            f"pipeline idle {percent(p.bubble_fraction[phase])}"
        )
    return lines


def report_table(
    report: Report,
    findings: Sequence[str] = (),
    *,
    per_operator: bool = False,
    show_warnings: bool = True,
) -> str:
    """The whole terminal report: title, verdicts, phases, metrics, findings, warnings."""
    parts = ["\n".join(title(report))]
    if report.parallelism is not None:
        parts.append("\n".join(parallelism_lines(report.parallelism)))
    parts += ["\n".join(verdicts(report)), phase_table(report)]
    parts.append("\n".join(["metrics", *metrics_lines(report)]))
    if per_operator:
        parts += [f"{name} operators\n{operator_table(p)}" for name, p in report.phases.items()]
    if findings:
        parts.append("\n".join(["findings", *(wrap(f, bullet="- ") for f in findings)]))
    if show_warnings and report.warnings:
        parts.append("\n".join(["warnings", *(wrap(w, bullet="! ") for w in report.warnings)]))
    return "\n\n".join(parts)
