"""Findings: a few plain-English lines that explain a ``Report`` and what would change it.

``findings(model, hardware, workload, report) -> list[str]``. Each line is computed from
the report, and every what-if ("int8 weights would cut TPOT by about 45%") re-runs the
analysis with a changed ``Workload``; nothing is canned. This is analysis, so it lives in
the library (pure, no I/O); renderers only print the lines.

Each ``*_finding`` function returns one line or None when it has nothing to say in the
situation at hand; ``findings`` keeps the non-empty ones, at most ``MAX_FINDINGS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from ..engine.analyze import analyze, roofs_for
from ..engine.memory import DEFAULT_RESERVE_FRACTION, max_batch_size
from ..engine.ops import ATTENTION, MATMUL, decode_pass, prefill_pass
from ..engine.pipeline import time_pass
from ..engine.report import Phase, Report
from ..engine.roofline import MEMORY_BOUND
from ..engine.sharding import ONE_DEVICE, stage_operators
from ..engine.solvers import SEARCH_LIMIT, smallest_integer
from ..engine.timing import Roofs
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.units import format_bytes, format_seconds
from ..inputs.workload import Workload

MAX_FINDINGS = 6
LONG_PROMPT_FACTOR = 16  # the "long prompt" of the attention-share finding: 16x the prompt
LONG_PROMPT_CAP = 131_072
MIN_LOOK_AHEAD = 2  # the attention-share finding looks ahead only to at least 2x the prompt
FLAT_GAIN = 1.05  # a larger batch that adds under 5% throughput is "no longer raising" it

# The next smaller storage format a what-if suggests, per current dtype.
SMALLER_WEIGHTS = {"fp32": "bf16", "bf16": "int8", "fp16": "int8", "int8": "int4", "fp8": "int4"}
SMALLER_KV = {"fp32": "bf16", "bf16": "fp8", "fp16": "fp8", "int8": "int4", "fp8": "int4"}

Finding = Callable[[Model, Hardware, Workload, Report, Layout], "str | None"]


def findings(
    model: Model,
    hardware: Hardware,
    workload: Workload,
    report: Report,
    layout: Layout | None = None,
) -> list[str]:
    """3–6 lines on why each phase is bound as it is and what would change it (on the
    report's layout: what-ifs re-run the analysis on the same devices)."""
    par = ONE_DEVICE if layout is None else layout
    lines = []
    for make in FINDINGS:
        try:
            line = make(model, hardware, workload, report, par)
        except ValueError:  # a what-if this engine or device cannot run: say nothing
            continue
        if line:
            lines.append(line)
    return lines[:MAX_FINDINGS]


# ---- decode --------------------------------------------------------------------------


def decode_bytes_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """What decode's bytes are, and what smaller weight and KV formats would save."""
    phase = r.decode
    if phase.bound != MEMORY_BOUND or phase.bytes <= 0:
        return None
    weights = sum(row.weight_bytes for row in phase.operators) / phase.bytes
    kv = sum(row.kv_bytes for row in phase.operators) / phase.bytes
    line = (
        f"decode is memory-bound: its {format_bytes(phase.bytes)} per step are "
        f"{weights:.0%} weights, {kv:.0%} KV cache, {1 - weights - kv:.0%} activations"
    )
    what_ifs: list[tuple[Workload, str]] = []
    smaller_weights, smaller_kv = SMALLER_WEIGHTS.get(w.weight_dtype), SMALLER_KV.get(w.kv_dtype)
    if smaller_weights is not None:
        what_ifs.append((replace(w, weight_dtype=smaller_weights), f"{smaller_weights} weights"))
    if smaller_kv is not None:
        what_ifs.append((replace(w, kv_dtype=smaller_kv), f"{smaller_kv} KV cache"))
    options = [
        (cut, label)
        for changed, label in what_ifs
        if (cut := _tpot_cut(m, hw, changed, r, layout)) is not None
    ]
    if not options:
        return line
    options.sort(key=lambda option: -option[0])
    best_cut, best = options[0]
    others = "".join(f" ({label}: {cut:.0%})" for cut, label in options[1:])
    return f"{line}; {best} would cut TPOT by about {best_cut:.0%}{others}"


def _tpot_cut(m: Model, hw: Hardware, changed: Workload, r: Report, layout: Layout) -> float | None:
    try:
        new = analyze(m, hw, changed, layout).metrics.tpot_s
    except ValueError:  # a format this device or engine cannot run
        return None
    return 1 - new / r.metrics.tpot_s


def _kind_intensity(phase: Phase, kind: str) -> float | None:
    """FLOP/byte of all operators of one kind in a phase (None when there are none)."""
    rows = [row for row in phase.operators if row.kind == kind]
    moved = sum(row.bytes for row in rows)
    return sum(row.flops for row in rows) / moved if moved > 0 else None


def matmul_critical_batch(
    m: Model, w: Workload, roofs: Roofs, layout: Layout = ONE_DEVICE
) -> int | None:
    """Smallest batch at which decode's matmuls (projections, MLP, head) together are
    compute-bound on a device of the first stage, at the workload's context; None past
    ``SEARCH_LIMIT``."""

    def intensity(batch: int) -> float:
        flops = bytes_ = 0.0
        for op in stage_operators(m, layout, decode_pass(w, batch=batch)):
            if op.kind == MATMUL:
                flops += op.flops * op.instances
                bytes_ += op.bytes * op.instances
        return flops / bytes_

    at_one = intensity(1)
    guess = math.ceil(roofs.ridge_point / at_one) if at_one > 0 else 1
    return smallest_integer(lambda b: intensity(b) >= roofs.ridge_point, guess)


def batch_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """Where batching turns decode compute-bound, or why it never does."""
    critical = r.metrics.critical_batch_size
    ridge = r.ridge_point
    if critical is not None:
        if critical <= w.batch_size:
            return (
                f"decode is compute-bound from batch {critical:,} (now {w.batch_size:,}): "
                f"a larger batch costs time in proportion to its FLOPs"
            )
        bigger = analyze(m, hw, replace(w, batch_size=critical), layout)
        fits = "" if bigger.metrics.memory.fits else ", if its KV cache fitted in memory"
        if bigger.metrics.tokens_per_s < FLAT_GAIN * r.metrics.tokens_per_s:
            return (
                f"decode turns compute-bound at batch {critical:,} (now {w.batch_size:,}), but "
                f"a larger batch no longer raises throughput: "
                f"{bigger.metrics.tokens_per_s:,.0f} tokens/s there vs "
                f"{r.metrics.tokens_per_s:,.0f} now"
            )
        return (
            f"decode turns compute-bound at batch {critical:,} (now {w.batch_size:,}): there "
            f"it would give {bigger.metrics.tokens_per_s:,.0f} tokens/s at TPOT "
            f"{format_seconds(bigger.metrics.tpot_s)}, vs {r.metrics.tokens_per_s:,.0f} "
            f"tokens/s at {format_seconds(r.metrics.tpot_s)} now{fits}"
        )
    attention_ai = _kind_intensity(r.decode, ATTENTION)
    roofs = roofs_for(hw, w)
    mlp = matmul_critical_batch(m, w, roofs, layout)
    attention = (
        f"decode attention stays memory-bound at any batch (AI ≈ {attention_ai:.1f} "
        f"FLOP/byte vs ridge {ridge:.0f}: each sequence reads its own KV cache)"
        if attention_ai is not None
        else "decode stays memory-bound at any batch"
    )
    if mlp is None:
        return attention[0].upper() + attention[1:]
    return (
        f"the matmuls (projections, MLP, head) turn compute-bound from batch {mlp:,}, "
        f"but {attention}"
    )


# ---- memory --------------------------------------------------------------------------


def memory_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """Whether weights, KV cache and activations fit, and the largest batch that would."""
    mem = r.metrics.memory
    need, have = format_bytes(mem.total_bytes), format_bytes(mem.capacity_bytes)
    tokens = w.prompt_len + w.output_len
    if mem.weight_bytes > mem.capacity_bytes:
        smaller = SMALLER_WEIGHTS.get(w.weight_dtype)
        hint = ""
        if smaller is not None:
            quantized = analyze(m, hw, replace(w, weight_dtype=smaller), layout).metrics.memory
            hint = f"; {smaller} weights would take {format_bytes(quantized.weight_bytes)}"
        return (
            f"the weights alone do not fit: {format_bytes(mem.weight_bytes)} of weights, "
            f"{have} available; shard across {math.ceil(mem.weight_bytes / mem.capacity_bytes)}+ "
            f"devices or quantize{hint}"
        )
    largest = max_batch_size(m, w, hw, layout) or 0
    room = (
        f"batch {largest:,} fits at {tokens:,} tokens per sequence (continuous batching, "
        f"{DEFAULT_RESERVE_FRACTION:.0%} of memory kept free, as serve-curve counts it)"
    )
    if not mem.fits:
        kv_is_larger = mem.kv_cache_bytes > mem.activation_bytes
        what = "the KV cache for this batch" if kv_is_larger else "this batch"
        return (
            f"{what} does not fit: {need} needed (weights {format_bytes(mem.weight_bytes)}, "
            f"KV cache {format_bytes(mem.kv_cache_bytes)}, activations "
            f"{format_bytes(mem.activation_bytes)}), {have} available; "
            f"{room if largest else 'not even batch 1 fits'}"
        )
    per_sequence = mem.kv_cache_bytes / w.batch_size
    return (
        f"memory: {need} of {have} used; up to {room} "
        f"({format_bytes(per_sequence)} of KV cache each)"
    )


# ---- prefill -------------------------------------------------------------------------


def prefill_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """Prefill's bound, where it flips, and whether a faster compute format would help."""
    phase, metrics = r.prefill, r.metrics
    critical = metrics.critical_prompt_len
    if phase.bound == MEMORY_BOUND:
        where = f"from {_tokens(critical)}" if critical else "at no prompt length"
        return (
            f"prefill of {w.prompt_len:,} tokens is memory-bound (it turns compute-bound "
            f"{where}): up to there longer prompts cost little extra time, as the weight "
            f"reads dominate"
        )
    line = (
        f"prefill is compute-bound (from {_tokens(critical)} at batch {w.batch_size:,}): "
        f"TTFT {format_seconds(metrics.ttft_s)} is set by its FLOPs at "
        f"{metrics.mfu['prefill']:.0%} MFU"
    )
    if "fp8" not in hw.peak_flops_per_s or w.activation_dtype in ("fp8", "int8", "fp4"):
        return line
    try:
        fp8 = analyze(m, hw, replace(w, activation_dtype="fp8"), layout)
    except ValueError:
        return line
    return (
        f"{line}; fp8 compute would cut TTFT by about {1 - fp8.metrics.ttft_s / metrics.ttft_s:.0%}"
    )


def attention_time_share(phase: Phase) -> float:
    """Fraction of a phase's (ideal) time spent in attention-kind operators."""
    spent = sum(row.time_s for row in phase.operators if row.kind == ATTENTION)
    return spent / phase.time_s if phase.time_s else 0.0


def long_prompt(m: Model, w: Workload) -> int:
    """The prompt length the attention-share finding looks ahead to."""
    cap = m.max_position_embeddings or LONG_PROMPT_CAP
    return min(w.prompt_len * LONG_PROMPT_FACTOR, cap, LONG_PROMPT_CAP, SEARCH_LIMIT)


def attention_share_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """How much of prefill is attention now, and at a much longer prompt."""
    now = attention_time_share(r.prefill)
    longer = long_prompt(m, w)
    if longer < MIN_LOOK_AHEAD * w.prompt_len:
        return f"attention is {now:.0%} of prefill time at {w.prompt_len:,} prompt tokens"
    roofs = roofs_for(hw, w)
    later = attention_time_share(time_pass(m, layout, prefill_pass(w, prompt=longer), roofs).phase)
    why = (
        f"sliding-window layers attend to at most {m.sliding_window:,} tokens"
        if m.sliding_window
        else "its FLOPs grow with the square of the prompt, the matmuls' linearly"
    )
    return (
        f"attention is {now:.0%} of prefill time at {w.prompt_len:,} prompt tokens and "
        f"{later:.0%} at {longer:,} ({why})"
    )


def attention_impl_finding(
    m: Model, hw: Hardware, w: Workload, r: Report, layout: Layout = ONE_DEVICE
) -> str | None:
    """With eager attention: what flash attention (scores kept on chip) would save."""
    if w.attention != "eager":
        return None
    flash = analyze(m, hw, replace(w, attention="flash"), layout)
    cut = 1 - flash.metrics.ttft_s / r.metrics.ttft_s
    return (
        f"eager attention writes and re-reads its score matrices: flash attention would "
        f"cut TTFT by about {cut:.0%} ({format_seconds(r.metrics.ttft_s)} → "
        f"{format_seconds(flash.metrics.ttft_s)})"
    )


def _tokens(n: int | None) -> str:
    return f"{n:,} prompt token{'' if n == 1 else 's'}"


FINDINGS: tuple[Finding, ...] = (
    decode_bytes_finding,
    batch_finding,
    memory_finding,
    prefill_finding,
    attention_share_finding,
    attention_impl_finding,
)
