"""Words and numbers for the terminal: the headline verdicts and compact number formats.

Everything here reads a ``Report``; the only arithmetic is display ratios of two report
fields (AI over the ridge point, an operator's share of its phase's time).
"""

from __future__ import annotations

from ..engine.report import Phase, Report


def number(value: float | None) -> str:
    """Three significant figures, thousands separated: 752, 57.3, 1.05, 12,345."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01 or value == 0:
        return f"{value:.2f}"
    return f"{value:.2g}"


def percent(fraction: float) -> str:
    """42%, 0.3%, 0% (one decimal below 1%)."""
    if 0 < abs(fraction) < 0.01:
        return f"{fraction:.1%}"
    return f"{fraction:.0%}"


def count(value: int | float | None) -> str:
    """An integer with thousands separators (``-`` for None)."""
    return "-" if value is None else f"{value:,.0f}"


def times(ratio: float) -> str:
    """0.042×, 0.61×, 1×, 2.5×, 12×, 281× — a ratio for 'by how much'."""
    return f"{ratio:.2g}×" if ratio < 10 else f"{ratio:,.0f}×"


def verdict(name: str, phase: Phase, ridge_point: float) -> str:
    """'prefill: compute-bound — AI 752 FLOP/byte vs ridge 295 (2.5× above)'."""
    ai = phase.arithmetic_intensity
    if ai is None or ai <= 0:
        margin = ""
    elif ai >= ridge_point:
        margin = f" ({times(ai / ridge_point)} above)"
    else:
        margin = f" ({times(ridge_point / ai)} below)"
    return (
        f"{name}: {phase.bound} — AI {number(ai)} FLOP/byte vs ridge {number(ridge_point)}{margin}"
    )


def verdicts(report: Report) -> list[str]:
    """One headline line per phase, names padded so the dashes line up."""
    width = max(len(name) for name in report.phases) + 1
    lines = []
    for name, phase in report.phases.items():
        text = verdict(name, phase, report.ridge_point)
        lines.append(f"{name + ':':<{width}}" + text[len(name) + 1 :])
    return lines


def workload_line(report: Report) -> str:
    """'batch 1, prompt 2,048, context 2,048, output 256, weights bf16, ...'."""
    w = report.workload
    return ", ".join(
        (
            f"batch {count(w['batch_size'])}",
            f"prompt {count(w['prompt_len'])}",
            f"context {count(w['context_len'])}",
            f"output {count(w['output_len'])}",
            f"weights {w['weight_dtype']}",
            f"KV {w['kv_dtype']}",
            f"{w['attention']} attention",
        )
    )
