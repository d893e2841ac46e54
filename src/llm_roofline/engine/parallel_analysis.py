"""Timing and the Report of a model served on several devices (``analyze(..., parallelism=)``).

Each operator of a device is priced on that device's roofs, as on one device (operators do
not overlap; communication is not overlapped with compute: an upper bound on real engines,
which overlap some of it). Pipeline timing from the per-stage times t_s of the first
(largest) micro-batch and the bottleneck device's busy time (all its micro-batches):
- a pass on its own (prefill: TTFT) fills and drains the pipeline:
  Σ_s t_s + (busy − t_bottleneck), i.e. (m + p − 1)·t for p equal stages and m equal
  micro-batches: bubble fraction (p − 1)/(m + p − 1);
- decode in steady state keeps m micro-batches in flight, one step apart: a step of one
  micro-batch recurs every max(busy, Σ_s t_s), i.e. max(m, p)·t (bubble (p − m)/p if m < p).
With t = p = e = 1 and one micro-batch, every number equals the single-device report's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..inputs.hardware import Hardware
from ..inputs.layout import Parallelism
from ..inputs.model import Model
from ..inputs.workload import Workload
from . import roofline
from .analysis import analyze, build_phase, decode_pass, live_activation_bytes, prefill_pass
from .critical import SEARCH_LIMIT, phase_totals, smallest_integer
from .ops import OpCost, Pass
from .parallel import (
    micro_batch_sizes,
    stage_bounds,
    stage_kv_cache_bytes,
    stage_operators,
)
from .report import Memory, Metrics, ParallelismSummary, Phase, Report, Request
from .timing import Roofs

TRAPEZOID_SEGMENTS = 16  # decode steps of a request are summed from this many segments


@dataclass(frozen=True)
class PassTiming:
    """One pass on a parallel layout: the bottleneck device and the pipeline's latencies."""

    phase: Phase  # the bottleneck stage's device, its operators over all micro-batches
    bottleneck_stage: int
    stage_ops: tuple[tuple[OpCost, ...], ...]  # each stage's device, first micro-batch
    stage_phases: tuple[Phase, ...]
    system_flops: float  # executed by all devices

    @property
    def fill_drain_s(self) -> float:
        """Expected latency of the pass on its own: Σ_s t_s + (busy − t_bottleneck)."""
        fill = sum(ph.expected_time_s for ph in self.stage_phases)
        return fill + (
            self.phase.expected_time_s - self.stage_phases[self.bottleneck_stage].expected_time_s
        )

    @property
    def ideal_fill_drain_s(self) -> float:
        fill = sum(ph.time_s for ph in self.stage_phases)
        return fill + (self.phase.time_s - self.stage_phases[self.bottleneck_stage].time_s)

    @property
    def steady_s(self) -> float:
        """Expected step time with every micro-batch in flight: max(busy, Σ_s t_s)."""
        return max(self.phase.expected_time_s, sum(ph.expected_time_s for ph in self.stage_phases))

    @property
    def ideal_steady_s(self) -> float:
        return max(self.phase.time_s, sum(ph.time_s for ph in self.stage_phases))

    @property
    def comm_bytes(self) -> float:
        return sum(row.comm_bytes for row in self.phase.operators)


def time_pass(
    m: Model, par: Parallelism, p: Pass, roofs: Roofs, *, logits: bool = True
) -> PassTiming:
    """Price one pass of ``p.batch`` sequences on the layout (see the module docstring)."""
    sizes = micro_batch_sizes(p.batch, par.micro_batches)
    first = replace(p, batch=sizes[0][0])
    stage_ops = tuple(
        tuple(stage_operators(m, par, first, s, logits=logits)) for s in range(par.pipeline)
    )
    phases = tuple(build_phase(ops_s, roofs) for ops_s in stage_ops)
    bottleneck = max(range(par.pipeline), key=lambda s: phases[s].expected_time_s)
    system = sum(ph.flops for ph in phases) * sizes[0][1]
    if len(sizes) == 1 and sizes[0][1] == 1:
        phase = phases[bottleneck]
    else:
        device: list[OpCost] = []
        for size, n in sizes:
            ops_b = stage_operators(m, par, replace(p, batch=size), bottleneck, logits=logits)
            device += [op.times(op.instances * n) for op in ops_b]
        phase = build_phase(device, roofs)
    for size, n in sizes[1:]:
        smaller = replace(p, batch=size)
        system += n * sum(
            phase_totals(stage_operators(m, par, smaller, s, logits=logits))[0]
            for s in range(par.pipeline)
        )
    return PassTiming(phase, bottleneck, stage_ops, phases, system * par.stage_devices)


def device_memory_of(
    m: Model,
    w: Workload,
    hw: Hardware,
    par: Parallelism,
    stage_ops: Sequence[Sequence[OpCost]],
) -> tuple[Memory, float]:
    """The fullest device's memory (weights + its KV cache + peak activations), and the
    weights summed over all devices. As analysis.memory_footprint, per stage; ``stage_ops``:
    each stage's prefill operators for its first micro-batch."""
    worst: Memory | None = None
    system_weights = 0.0
    tokens = w.prompt_len + w.output_len
    for s, ops_s in enumerate(stage_ops):
        weights = float(sum(op.param_bytes * op.instances for op in ops_s))
        kv = stage_kv_cache_bytes(m, par, s, w.batch_size, tokens, w.kv_bytes_per_element)
        activations = max(live_activation_bytes(m, w, op) for op in ops_s)
        total = weights + kv + activations
        memory = Memory(weights, kv, activations, total, hw.memory_bytes, total <= hw.memory_bytes)
        if worst is None or total > worst.total_bytes:
            worst = memory
        system_weights += weights * par.stage_devices
    assert worst is not None
    return worst, system_weights


def sum_over_contexts(
    step: Callable[[int], tuple[float, float]], first: int, last: int, edges: Sequence[int] = ()
) -> tuple[float, float]:
    """Σ over integer contexts first..last of step(c) (expected, ideal), trapezoid rule on
    TRAPEZOID_SEGMENTS segments plus the ``edges`` (window boundaries): exact where the step
    time is linear between sample points (it is piecewise linear in the context)."""
    span = last - first
    points = {first, last, *(c for c in edges if first < c < last)}
    points |= {first + span * i // TRAPEZOID_SEGMENTS for i in range(TRAPEZOID_SEGMENTS)}
    xs = sorted(points)
    values = [step(c) for c in xs]
    expected = (values[0][0] + values[-1][0]) / 2
    ideal = (values[0][1] + values[-1][1]) / 2
    for (a, fa), (b, fb) in itertools.pairwise(zip(xs, values, strict=True)):
        expected += (fa[0] + fb[0]) / 2 * (b - a)
        ideal += (fa[1] + fb[1]) / 2 * (b - a)
    return expected, ideal


def _request(m: Model, w: Workload, par: Parallelism, roofs: Roofs, prefill: PassTiming) -> Request:
    """Prefill (fill-drain), then output_len steady-state decode steps at a growing context."""
    n = w.output_len
    decode_s = ideal_decode_s = 0.0
    if n:

        def step(context: int) -> tuple[float, float]:
            timing = time_pass(m, par, decode_pass(w, context=context), roofs)
            return timing.steady_s, timing.ideal_steady_s

        windows = sorted({g.window for g in m.layer_groups if g.window is not None})
        edges = [x for wdw in windows for x in (wdw, wdw + 1)]
        decode_s, ideal_decode_s = sum_over_contexts(
            step, w.prompt_len, w.prompt_len + n - 1, edges
        )
    total = prefill.fill_drain_s + decode_s
    return Request(
        prefill_s=prefill.fill_drain_s,
        decode_s=decode_s,
        total_s=total,
        ideal_total_s=prefill.ideal_fill_drain_s + ideal_decode_s,
        output_tokens_per_s=w.batch_size * n / total if total else 0.0,
    )


def _critical(
    m: Model, w: Workload, par: Parallelism, roofs: Roofs, base: Report
) -> tuple[int | None, str, int | None, str]:
    """Critical batch and prompt of the bottleneck device (its phase AI vs the ridge)."""

    def decode_bound(batch: int) -> bool:
        phase = time_pass(m, par, decode_pass(w, batch=batch), roofs).phase
        return phase.bound == roofline.COMPUTE_BOUND

    def prefill_bound(prompt: int) -> bool:
        phase = time_pass(m, par, prefill_pass(w, prompt=prompt), roofs).phase
        return phase.bound == roofline.COMPUTE_BOUND

    base_m = base.metrics
    batch = smallest_integer(decode_bound, base_m.critical_batch_size or 1)
    prompt = smallest_integer(prefill_bound, base_m.critical_prompt_len or 1)
    return (
        batch,
        f"decode turns compute-bound on each device at batch {batch}"
        if batch is not None
        else f"decode stays memory-bound on each device up to batch {SEARCH_LIMIT}",
        prompt,
        f"prefill turns compute-bound on each device from {prompt} prompt tokens"
        if prompt is not None
        else f"prefill stays memory-bound on each device up to {SEARCH_LIMIT} prompt tokens",
    )


def check_layout(m: Model, hw: Hardware, par: Parallelism) -> None:
    """The layout fits the model, and the device has an interconnect if anything is sent."""
    par.check(m)
    if par.devices > 1 and hw.interconnect_bytes_per_s is None:
        raise ValueError(
            f"hardware {hw.name!r} has no interconnect_bytes_per_s, needed for {par.devices} devices"
        )


def analyze_parallel(
    model: Model, hardware: Hardware, workload: Workload, par: Parallelism
) -> Report:
    """The Report of one model on ``par.devices`` devices (scopes: report.ParallelismSummary)."""
    check_layout(model, hardware, par)
    base = analyze(model, hardware, workload)
    roofs = Roofs.of(hardware, workload.activation_dtype)
    pre = time_pass(model, par, prefill_pass(workload), roofs)
    dec = time_pass(model, par, decode_pass(workload), roofs)
    ttft, tpot = pre.fill_drain_s, dec.steady_s
    memory, system_weights = device_memory_of(model, workload, hardware, par, pre.stage_ops)
    if par.is_single_device:
        b_m = base.metrics
        critical = (
            b_m.critical_batch_size,
            b_m.critical_batch_size_reason,
            b_m.critical_prompt_len,
            b_m.critical_prompt_len_reason,
        )
        request = b_m.request
    else:
        critical = _critical(model, workload, par, roofs, base)
        request = _request(model, workload, par, roofs, pre)
    timings = {"prefill": pre, "decode": dec}
    latency = {"prefill": ttft, "decode": tpot}
    model_flops = {k: base.phases[k].flops for k in timings}
    peak = roofs.peak_flops_per_s * par.devices
    metrics = Metrics(
        ttft_s=ttft,
        tpot_s=tpot,
        tokens_per_s=workload.batch_size / tpot,
        prefill_tokens_per_s=workload.batch_size * workload.prompt_len / ttft,
        mfu={k: model_flops[k] / latency[k] / peak for k in timings},
        mbu={
            k: t.phase.bytes / latency[k] / roofs.bandwidth_bytes_per_s for k, t in timings.items()
        },
        memory=memory,
        critical_batch_size=critical[0],
        critical_batch_size_reason=critical[1],
        critical_prompt_len=critical[2],
        critical_prompt_len_reason=critical[3],
        request=request,
    )
    summary = _summary(model, par, timings, model_flops, system_weights)
    return replace(
        base,
        phases={"prefill": pre.phase, "decode": dec.phase},
        metrics=metrics,
        warnings=base.warnings + layout_warnings(model, par),
        parallelism=summary,
    )


def _summary(
    m: Model,
    par: Parallelism,
    timings: dict[str, PassTiming],
    model_flops: dict[str, float],
    system_weights: float,
) -> ParallelismSummary:
    """The report's parallelism block: prefill latency is fill-drain, decode steady state."""
    latency = {"prefill": timings["prefill"].fill_drain_s, "decode": timings["decode"].steady_s}
    ideal = {
        "prefill": timings["prefill"].ideal_fill_drain_s,
        "decode": timings["decode"].ideal_steady_s,
    }
    return ParallelismSummary(
        tensor=par.tensor,
        pipeline=par.pipeline,
        expert=par.expert,
        micro_batches=par.micro_batches,
        devices=par.devices,
        attention_replicas=par.attention_replicas,
        stage_layers=tuple(b - a for a, b in stage_bounds(m.num_layers, par.pipeline)),
        bottleneck_stage={k: t.bottleneck_stage for k, t in timings.items()},
        per_device_flops={k: t.phase.flops for k, t in timings.items()},
        system_flops={k: t.system_flops for k, t in timings.items()},
        model_flops=model_flops,
        comm_bytes={k: t.comm_bytes for k, t in timings.items()},
        busy_time_s={k: t.phase.expected_time_s for k, t in timings.items()},
        latency_s=latency,
        ideal_latency_s=ideal,
        bubble_fraction={k: 1 - t.phase.expected_time_s / latency[k] for k, t in timings.items()},
        system_weight_bytes=system_weights,
    )


def layout_warnings(m: Model, par: Parallelism) -> tuple[str, ...]:
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
