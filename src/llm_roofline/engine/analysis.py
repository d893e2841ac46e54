"""``analyze(model, hardware, workload) -> Report``: pure, no I/O.

Prefill is one pass over ``prompt_len`` new tokens per sequence from an empty cache;
decode is one pass over 1 new token per sequence with ``context_len`` tokens cached.
Phase time is the sum of operator times (no overlap between operators).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from ..inputs.hardware import Hardware
from ..inputs.layout import Parallelism
from ..inputs.model import Model
from ..inputs.workload import Workload
from . import roofline
from .critical import critical_batch_size, critical_prompt_len
from .layers import forward_operators
from .ops import OpCost, Pass
from .report import Memory, Metrics, OperatorRow, Phase, Report
from .request import request_times
from .timing import Roofs


def prefill_pass(workload: Workload, batch: int | None = None, prompt: int | None = None) -> Pass:
    new = workload.prompt_len if prompt is None else prompt
    return Pass.of(workload, new=new, past=0, batch=batch)


def decode_pass(workload: Workload, batch: int | None = None, context: int | None = None) -> Pass:
    past = workload.decode_context_len if context is None else context
    return Pass.of(workload, new=1, past=past, batch=batch)


def build_phase(op_list: Sequence[OpCost], roofs: Roofs) -> Phase:
    """Sum operator instances into named rows (first-appearance order) and phase totals."""
    rows: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, int]] = {}
    memory_bound_s = 0.0
    peak, bw = roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s
    for op in op_list:
        n = op.instances
        ideal, expected = roofs.ideal_s(op) * n, roofs.expected_s(op) * n
        if op.bytes / bw > op.flops / peak and op.bytes / bw * n >= ideal:
            memory_bound_s += ideal  # memory is the binding roof of this instance
        acc = rows.setdefault(op.name, [0.0] * 7)
        for i, value in enumerate(
            (op.flops, op.weight_bytes, op.activation_bytes, op.kv_bytes, op.comm_bytes)
        ):
            acc[i] += value * n
        acc[5] += ideal
        acc[6] += expected
        kind, count = kinds.get(op.name, (op.kind, 0))
        kinds[op.name] = (kind, count + n)
    built = tuple(_row(name, kinds[name], acc, roofs) for name, acc in rows.items())
    flops = sum(r.flops for r in built)
    bytes_ = sum(r.bytes for r in built)
    time_s = sum(r.time_s for r in built)
    return Phase(
        flops=flops,
        bytes=bytes_,
        arithmetic_intensity=roofline.intensity(flops, bytes_),
        bound=roofline.bound(flops, bytes_, roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s),
        time_s=time_s,
        expected_time_s=sum(r.expected_time_s for r in built),
        compute_time_s=flops / roofs.peak_flops_per_s,
        memory_time_s=bytes_ / roofs.bandwidth_bytes_per_s,
        memory_bound_time_fraction=min(1.0, memory_bound_s / time_s) if time_s else 0.0,
        operators=built,
    )


def _row(name: str, kind_count: tuple[str, int], acc: list[float], roofs: Roofs) -> OperatorRow:
    flops, weight, activation, kv, comm, ideal, expected = acc
    bytes_ = weight + activation + kv
    return OperatorRow(
        name=name,
        kind=kind_count[0],
        count=kind_count[1],
        flops=flops,
        bytes=bytes_,
        weight_bytes=weight,
        activation_bytes=activation,
        kv_bytes=kv,
        comm_bytes=comm,
        arithmetic_intensity=roofline.intensity(flops, bytes_),
        bound=roofline.bound(
            flops,
            bytes_,
            roofs.peak_flops_per_s,
            roofs.bandwidth_bytes_per_s,
            comm,
            roofs.interconnect_bytes_per_s,
        ),
        time_s=ideal,
        expected_time_s=expected,
    )


def memory_footprint(m: Model, w: Workload, hw: Hardware, prefill_ops: Sequence[OpCost]) -> Memory:
    """Weights + KV cache for batch·(prompt + output) tokens + peak activations.

    Peak activations: the largest single operator instance's inputs and outputs in prefill
    (they are live at once); an estimate, not an allocator trace.
    """
    weights = float(sum(op.param_bytes * op.instances for op in prefill_ops))
    kv = w.batch_size * m.kv_cache_bytes(w.prompt_len + w.output_len, w.kv_bytes_per_element)
    activations = max(live_activation_bytes(m, w, op) for op in prefill_ops)
    total = weights + kv + activations
    return Memory(weights, kv, activations, total, hw.memory_bytes, total <= hw.memory_bytes)


def live_activation_bytes(m: Model, w: Workload, op: OpCost) -> float:
    """An operator's activations live at once. An expert chain's record sums the traffic of
    its four steps; what is live is its widest step: (rows, d) in and (rows, 2·I) out."""
    if m.moe is None or op.name not in ("experts", "shared_experts"):
        return op.activation_bytes
    tokens = w.batch_size * w.prompt_len
    if op.name == "experts":
        rows, width = tokens * m.moe.experts_per_token, m.moe.expert_intermediate_size
    else:
        rows, width = tokens * m.moe.num_shared_experts, m.moe.shared_expert_intermediate_size
    n_in = 2 if m.gated_mlp else 1
    return rows * (m.hidden_size + n_in * width) * w.activation_bytes_per_element


def analyze(
    model: Model, hardware: Hardware, workload: Workload, parallelism: Parallelism | None = None
) -> Report:
    """The roofline report of one model on one device for one workload.

    With ``parallelism``: on that many devices (parallel_analysis; report.ParallelismSummary).
    """
    if parallelism is not None:
        from .parallel_analysis import analyze_parallel  # it builds on this module

        return analyze_parallel(model, hardware, workload, parallelism)
    roofs = Roofs.of(hardware, workload.activation_dtype)
    prefill_ops = forward_operators(model, prefill_pass(workload))
    decode_ops = forward_operators(model, decode_pass(workload))
    prefill, decode = build_phase(prefill_ops, roofs), build_phase(decode_ops, roofs)
    batch_size, batch_reason = critical_batch_size(model, workload, roofs)
    prompt_len, prompt_reason = critical_prompt_len(model, workload, roofs)
    metrics = Metrics(
        ttft_s=prefill.expected_time_s,
        tpot_s=decode.expected_time_s,
        tokens_per_s=workload.batch_size / decode.expected_time_s,
        prefill_tokens_per_s=workload.batch_size * workload.prompt_len / prefill.expected_time_s,
        mfu={
            k: _utilization(p.flops, p, roofs.peak_flops_per_s) for k, p in _phases(prefill, decode)
        },
        mbu={
            k: _utilization(p.bytes, p, roofs.bandwidth_bytes_per_s)
            for k, p in _phases(prefill, decode)
        },
        memory=memory_footprint(model, workload, hardware, prefill_ops),
        critical_batch_size=batch_size,
        critical_batch_size_reason=batch_reason,
        critical_prompt_len=prompt_len,
        critical_prompt_len_reason=prompt_reason,
        request=request_times(model, workload, roofs, prefill),
    )
    return Report(
        model=_model_summary(model),
        hardware=_hardware_summary(hardware),
        workload=asdict(workload) | {"context_len": workload.decode_context_len},
        compute_dtype=roofs.dtype,
        peak_flops_per_s=roofs.peak_flops_per_s,
        bandwidth_bytes_per_s=roofs.bandwidth_bytes_per_s,
        ridge_point=roofs.ridge_point,
        phases={"prefill": prefill, "decode": decode},
        metrics=metrics,
        warnings=_warnings(model, hardware, workload, roofs),
    )


def _phases(prefill: Phase, decode: Phase) -> tuple[tuple[str, Phase], ...]:
    return (("prefill", prefill), ("decode", decode))


def _utilization(amount: float, phase: Phase, roof: float) -> float:
    return amount / phase.expected_time_s / roof


def _model_summary(m: Model) -> dict[str, object]:
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


def _hardware_summary(hw: Hardware) -> dict[str, object]:
    return {
        "name": hw.name,
        "id": hw.id,
        "peak_flops_per_s": dict(hw.peak_flops_per_s),
        "bandwidth_bytes_per_s": hw.bandwidth_bytes_per_s,
        "memory_bytes": hw.memory_bytes,
        "interconnect_bytes_per_s": hw.interconnect_bytes_per_s,
        "compute_efficiency": hw.compute_efficiency,
        "bandwidth_efficiency": hw.bandwidth_efficiency,
        "calibrated": hw.efficiency_table is not None,
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
