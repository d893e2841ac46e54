"""``analyze(model, hardware, workload, layout=None) -> Report``: pure, no I/O.

One path for every layout (one device is the layout of ones). Prefill is one pass over
``prompt_len`` new tokens per sequence from an empty cache (``batch_size`` prompts
prefilled together); decode is one pass over 1 new token per sequence with
``context_len`` tokens cached. ``batch_size`` is the batch of one model replica: data-
parallel replicas multiply throughput, not latency. Phases, memory and the critical
points describe the bottleneck device; times, throughput and MFU the whole system.
"""

from __future__ import annotations

import operator
from dataclasses import fields

from ..inputs.arguments import check_analysis_arguments
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .compiled import stage_totals
from .memory import device_memory
from .ops import Pass, decode_pass, prefill_pass
from .pipeline import PassTiming, time_pass
from .report import SCHEMA, Metrics, ParallelismSummary, Report
from .request import request_times
from .sharding import ONE_DEVICE, stage_bounds
from .solvers import critical_batch_size, critical_prompt_len
from .timing import Roofs


def check_layout(m: Model, hw: Hardware, layout: Layout) -> None:
    """The layout fits the model, and the device has an interconnect if anything is sent."""
    layout.check(m)
    _check_interconnect(hw, layout)


def _check_interconnect(hw: Hardware, layout: Layout) -> None:
    if layout.replica_devices > 1 and hw.interconnect_bytes_per_s is None:
        raise ValueError(
            f"hardware {hw.name!r} has no interconnect_bytes_per_s, needed for "
            f"{layout.replica_devices} devices"
        )


def roofs_for(hardware: Hardware, workload: Workload) -> Roofs:
    """The roofs a workload's operators are priced on: its compute dtype and its engine's
    profile (one place: every study and the sweep use it). The KV-cache dtype is the
    operators' own (an attention record's element size picks its decode kernels)."""
    return Roofs.of(hardware, workload.activation_dtype, workload.engine)


def analyze(
    model: Model, hardware: Hardware, workload: Workload, layout: Layout | None = None
) -> Report:
    """The roofline report of one model on ``layout`` (default: one device)."""
    check_analysis_arguments(model, hardware, workload, layout)
    explicit = layout is not None  # a layout given (even of ones) gets its summary block
    layout = ONE_DEVICE if layout is None else layout
    notes = _layout_notes(model, layout)  # (checks the layout fits the model)
    _check_interconnect(hardware, layout)
    roofs = roofs_for(hardware, workload)
    pre = time_pass(model, layout, prefill_pass(workload), roofs)
    dec = time_pass(model, layout, decode_pass(workload), roofs)
    ttft, tpot = pre.fill_drain_s + roofs.request_overhead_s, dec.steady_s
    # Each stage holds its prefill's and its decode step's first micro-batch at some point.
    stage_terms = [
        (p_terms[0], (p_terms[1], d_terms[1]))
        for p_terms, d_terms in zip(pre.stage_memory, dec.stage_memory, strict=True)
    ]
    memory, replica_weights = device_memory(model, workload, hardware, layout, stage_terms)
    single = layout.replica_devices == 1
    model_flops = {
        "prefill": pre.phase.flops
        if single
        else _model_flops(model, prefill_pass(workload), roofs),
        "decode": dec.phase.flops if single else _model_flops(model, decode_pass(workload), roofs),
    }
    latency = {"prefill": ttft, "decode": tpot}
    timings = {"prefill": pre, "decode": dec}
    peak = roofs.peak_flops_per_s * layout.replica_devices
    bandwidth = roofs.bandwidth_bytes_per_s
    own_decode, own_prefill = (dec.phase.flops, dec.phase.bytes), (pre.phase.flops, pre.phase.bytes)
    batch_size, batch_reason = critical_batch_size(
        model, workload, roofs, layout, own_decode, dec.program
    )
    prompt_len, prompt_reason = critical_prompt_len(
        model, workload, roofs, layout, own_prefill, pre.program
    )
    replicas = layout.data
    ttft_range, tpot_range = _range(roofs, "prefill", ttft), _range(roofs, "decode", tpot)
    request = request_times(
        model, workload, roofs, layout, ttft, pre.ideal_fill_drain_s,
        _own_step(workload, dec, roofs), dec.program,
    )  # fmt: skip
    throughput_range = None if tpot_range is None else (
        replicas * workload.batch_size / tpot_range[1],
        replicas * workload.batch_size / tpot_range[0],
    )  # fmt: skip
    # The records built with positional fields, in their order (keywords cost ~1 µs a call).
    metrics = Metrics(
        ttft, tpot, replicas * workload.batch_size / tpot,  # ttft_s, tpot_s, tokens_per_s
        replicas * workload.batch_size * workload.prompt_len / ttft,  # prefill_tokens_per_s
        {"prefill": model_flops["prefill"] / ttft / peak,
         "decode": model_flops["decode"] / tpot / peak},  # mfu
        {"prefill": pre.phase.bytes / ttft / bandwidth,
         "decode": dec.phase.bytes / tpot / bandwidth},  # mbu
        memory, batch_size, batch_reason, prompt_len, prompt_reason, request,
        roofs.request_overhead_s, ttft_range, tpot_range, throughput_range,
    )  # fmt: skip
    summary = (
        None if not explicit
        else _summary(model, layout, timings, latency, model_flops, replica_weights)
    )  # fmt: skip
    return Report(
        _model_summary(model), _hardware_summary(hardware, roofs), _workload_summary(workload),
        roofs.dtype, roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s, roofs.ridge_point,
        {"prefill": pre.phase, "decode": dec.phase}, metrics,
        _warnings(model, hardware, workload, roofs) + notes,
        SCHEMA, summary,  # schema, parallelism (findings: none)
    )  # fmt: skip


def _own_step(w: Workload, dec: PassTiming, roofs: Roofs) -> tuple[float, float] | None:
    """(expected, ideal) seconds of the operators of the analyzed decode step, for the
    request sum, when that step is the request's first (context = prompt) on one device
    of a single stage and micro-batch; else None."""
    if w.decode_context_len != w.prompt_len or len(dec.stage_phases) != 1:
        return None
    if dec.phase is not dec.stage_phases[0]:  # several micro-batches
        return None
    return dec.phase.expected_time_s - roofs.step_overhead_s, dec.phase.time_s


def _range(roofs: Roofs, phase: str, expected_s: float) -> tuple[float, float] | None:
    """The likely range of an expected time: its p10 and p90 multipliers applied."""
    factors = roofs.range_factors(phase)
    return None if factors is None else (expected_s * factors[0], expected_s * factors[1])


def _model_flops(m: Model, p: Pass, roofs: Roofs) -> float:
    """FLOPs of the unsharded model for the whole batch (the MFU numerator)."""
    return float(stage_totals(m, ONE_DEVICE, p, 0, roofs)[0])


def _summary(
    m: Model,
    layout: Layout,
    timings: dict[str, PassTiming],
    latency: dict[str, float],
    model_flops: dict[str, float],
    replica_weights: float,
) -> ParallelismSummary:
    """The report's parallelism block: prefill latency is fill-drain, decode steady state."""
    ideal = {
        "prefill": timings["prefill"].ideal_fill_drain_s,
        "decode": timings["decode"].ideal_steady_s,
    }
    return ParallelismSummary(
        tensor=layout.tensor,
        pipeline=layout.pipeline,
        expert=layout.expert,
        data=layout.data,
        micro_batches=layout.micro_batches,
        devices=layout.devices,
        attention_replicas=layout.attention_replicas,
        stage_layers=tuple(b - a for a, b in stage_bounds(m.num_layers, layout.pipeline)),
        bottleneck_stage={k: t.bottleneck_stage for k, t in timings.items()},
        per_device_flops={k: t.phase.flops for k, t in timings.items()},
        system_flops={k: t.system_flops for k, t in timings.items()},
        model_flops=model_flops,
        comm_bytes={k: t.comm_bytes for k, t in timings.items()},
        busy_time_s={k: t.phase.expected_time_s for k, t in timings.items()},
        latency_s=latency,
        ideal_latency_s=ideal,
        bubble_fraction={k: 1 - t.phase.expected_time_s / latency[k] for k, t in timings.items()},
        system_weight_bytes=replica_weights,
    )


_WORKLOAD_FIELDS = tuple(f.name for f in fields(Workload))  # all plain values: no deep copy
_workload_values = operator.attrgetter(*_WORKLOAD_FIELDS)


def _workload_summary(w: Workload) -> dict[str, object]:
    """The report's workload block: its fields, then the decode step's context."""
    held = vars(w)  # its fields, in their order (a frozen dataclass sets nothing else)
    if len(held) == len(_WORKLOAD_FIELDS):
        return held | {"context_len": w.decode_context_len}
    values = dict(zip(_WORKLOAD_FIELDS, _workload_values(w), strict=True))
    return values | {"context_len": w.decode_context_len}


_SUMMARIES: dict[int, tuple[Model, dict[str, object]]] = {}


def _model_summary(m: Model) -> dict[str, object]:
    """The report's model block (computed once per model object; each report its own copy)."""
    hit = _SUMMARIES.get(id(m))
    if hit is None or hit[0] is not m:
        if len(_SUMMARIES) >= 256:
            _SUMMARIES.clear()
        hit = _SUMMARIES[id(m)] = (m, _summarize(m))  # the model held: its id stays its own
    return dict(hit[1])


def _summarize(m: Model) -> dict[str, object]:
    return {
        "name": m.name,
        "parameters": m.parameter_count,
        "active_parameters": m.active_parameter_count,
        "layers": m.num_layers,
        "hidden_size": m.hidden_size,
        "attention_heads": m.num_attention_heads,
        "kv_heads": m.num_key_value_heads,
        "head_dim": m.head_dim,
        "moe": m.moe is not None,
        "sliding_window": m.sliding_window,
        "source": m.source,
    }


def _hardware_summary(hw: Hardware, roofs: Roofs) -> dict[str, object]:
    return {
        "name": hw.name,
        "id": hw.id,
        "peak_flops_per_s": dict(hw.peak_flops_per_s),
        "bandwidth_bytes_per_s": hw.bandwidth_bytes_per_s,
        "memory_bytes": hw.memory_bytes,
        "interconnect_bytes_per_s": hw.interconnect_bytes_per_s,
        "compute_efficiency": hw.compute_efficiency,
        "bandwidth_efficiency": hw.bandwidth_efficiency,
        "generation": hw.generation,
        "calibration": roofs.calibration_status,  # calibrated, transferred or uncalibrated
        "calibration_note": roofs.calibration_note,
        "engine": roofs.engine.name,
        "source": hw.source,
    }


def _warnings(m: Model, hw: Hardware, w: Workload, roofs: Roofs) -> tuple[str, ...]:
    notes = []
    if roofs.dtype != w.activation_dtype:
        notes.append(f"{hw.name} has no {w.activation_dtype} peak; used its {roofs.dtype} rate")
    longest = max(w.prompt_len, w.decode_context_len) + w.output_len
    if m.max_position_embeddings is not None and longest > m.max_position_embeddings:
        notes.append(
            f"prompt/context plus output ({longest} tokens) exceeds the model's "
            f"max_position_embeddings ({m.max_position_embeddings})"
        )
    return tuple(notes)


_NOTES: dict[tuple[int, Layout], tuple[Model, tuple[str, ...]]] = {}


def _layout_notes(m: Model, layout: Layout) -> tuple[str, ...]:
    """``layout.check(m)`` (raises where the model cannot be split so) and the layout's
    warnings, once per model object and layout."""
    hit = _NOTES.get((id(m), layout))
    if hit is None or hit[0] is not m:
        layout.check(m)
        if len(_NOTES) >= 256:
            _NOTES.clear()
        hit = _NOTES[(id(m), layout)] = (m, layout_warnings(m, layout))  # held: id its own
    return hit[1]


def layout_warnings(m: Model, par: Layout) -> tuple[str, ...]:
    """What the layout replicates or pads, said once."""
    t, notes = par.tensor, []
    if m.mla is None and t > m.num_key_value_heads:
        notes.append(
            f"tensor {t} exceeds the model's {m.num_key_value_heads} KV heads: each KV head "
            f"(and its cache) is replicated on {t // m.num_key_value_heads} devices"
        )
    if m.mla is not None and t > 1:
        notes.append(
            f"MLA's latent KV cache is replicated on each of the {t} tensor-parallel devices"
        )
    sizes = {"intermediate_size": m.intermediate_size, "vocab_size": m.vocab_size}
    if m.moe is not None and par.expert == 1:
        sizes["moe.expert_intermediate_size"] = m.moe.expert_intermediate_size
    for name, size in sizes.items():
        if size % t:
            notes.append(
                f"{name} ({size}) is not divisible by tensor {t}: padded to {-(-size // t) * t}"
            )
    return tuple(notes)
