"""Tensor, pipeline and expert parallelism: per-device operators, communication, the report.

The tiny model (conftest): V=10, d=4, 2 layers, 2 query heads and 1 KV head of 2, I=6; bf16.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace

import pytest

from conftest import ALL_MODELS, a100, llama3_8b, mixtral_8x7b, tiny, tiny_moe
from llm_roofline import Hardware, Report, Workload, analyze
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.ops import COMMUNICATION, MATMUL, Pass, decode_pass, prefill_pass
from llm_roofline.engine.phase import build_phase
from llm_roofline.engine.pipeline import time_pass
from llm_roofline.engine.sharding import (
    all_gather,
    all_reduce,
    all_to_all,
    forward_operators,
    micro_batch_sizes,
    micro_batch_split,
    pp_send,
    shard_model,
    stage_bounds,
    stage_operators,
)
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.layout import Parallelism
from test_mla import deepseek_v3, tiny_mla


def h100() -> Hardware:
    return Hardware("H100 SXM", {"bf16": 989.4e12, "fp8": 1978.9e12}, 3.35e12, 80e9, 450e9)


def rows(ops: list) -> dict[str, float]:  # type: ignore[type-arg]
    out: dict[str, float] = {}
    for op in ops:
        out[op.name] = out.get(op.name, 0.0) + op.flops * op.instances
    return out


# ---- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["tensor", "pipeline", "expert", "micro_batches"])
@pytest.mark.parametrize("value", [0, -2])
def test_degrees_must_be_positive(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        Parallelism(**{field: value})


@pytest.mark.parametrize("value", [1.5, True, "2"])
def test_degrees_must_be_integers(value: object) -> None:
    with pytest.raises((TypeError, ValueError), match="tensor"):
        Parallelism(tensor=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "par", "needle"),
    [
        (llama3_8b, Parallelism(tensor=3), "num_attention_heads"),
        (tiny, Parallelism(pipeline=3), "pipeline"),
        (llama3_8b, Parallelism(expert=2), "mixture-of-experts"),
        (mixtral_8x7b, Parallelism(expert=16), "num_experts"),
    ],
)
def test_layouts_the_model_cannot_take_name_the_field(
    model: type, par: Parallelism, needle: str
) -> None:
    with pytest.raises(ValueError, match=needle):
        analyze(model(), a100(), Workload(prompt_len=16), par)


def test_kv_heads_must_divide_or_be_divided() -> None:
    m = replace(llama3_8b(), num_attention_heads=48, num_key_value_heads=12)  # 12 KV heads
    with pytest.raises(ValueError, match="num_key_value_heads"):
        Parallelism(tensor=8).check(m)  # 8 neither divides 12 nor is a multiple of it
    Parallelism(tensor=4).check(m)
    Parallelism(tensor=24).check(m)


def test_expert_must_be_a_multiple_of_tensor() -> None:
    with pytest.raises(ValueError, match="expert"):
        Parallelism(tensor=4, expert=2)
    assert Parallelism(tensor=2, expert=8).attention_replicas == 4
    assert Parallelism(tensor=2, expert=8, pipeline=3).devices == 24


def test_no_interconnect_is_a_clear_error() -> None:
    hw = Hardware("island", {"bf16": 100e12}, 1e12, 80e9)
    with pytest.raises(ValueError, match="interconnect_bytes_per_s"):
        analyze(tiny(), hw, Workload(prompt_len=8), Parallelism(tensor=2))


# ---- t = p = e = 1 is the single device, exactly ----------------------------------------------


SINGLE_MODELS = [*ALL_MODELS, tiny_mla, deepseek_v3]
WORKLOADS = [
    Workload(prompt_len=64, output_len=16),
    Workload(batch_size=3, prompt_len=100, context_len=300, attention="eager", weight_dtype="int4"),
]


@pytest.mark.parametrize("make", SINGLE_MODELS)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_one_device_equals_the_single_device_report_exactly(make: type, workload: Workload) -> None:
    m, hw = make(), a100()
    single = analyze(m, hw, workload)
    layout = analyze(m, hw, workload, Parallelism())
    assert layout.parallelism is not None
    assert replace(layout, parallelism=None) == single
    assert layout.parallelism.devices == 1
    assert layout.parallelism.bubble_fraction == {"prefill": 0.0, "decode": 0.0}


def test_single_device_json_has_no_parallelism_key_and_layouts_round_trip() -> None:
    w = Workload(prompt_len=32, output_len=8)
    assert "parallelism" not in analyze(tiny(), a100(), w).to_dict()
    report = analyze(llama3_8b(), a100(), w, Parallelism(tensor=2, pipeline=2, micro_batches=2))
    assert Report.from_dict(report.to_dict()) == report
    assert Report.from_json(report.to_json()) == report
    assert report.to_dict()["parallelism"]["stage_layers"] == (16, 16)


def test_a_reports_dict_is_its_fields_with_each_operator_row_an_object() -> None:
    report = analyze(mixtral_8x7b(), a100(), Workload(), Parallelism(tensor=2, expert=2))
    report = replace(report, findings=("a finding",))
    data = report.to_dict()
    assert list(data) == ["schema", *(f.name for f in fields(Report) if f.name != "schema")]
    assert data["metrics"] == asdict(report.metrics)
    assert data["parallelism"] == asdict(report.parallelism)
    assert data["findings"] == ("a finding",)
    for name, phase in report.phases.items():
        rows = data["phases"][name].pop("operators")
        assert rows == [row._asdict() for row in phase.operators]  # a list of objects
        assert data["phases"][name] == {f.name: getattr(phase, f.name) for f in fields(phase)
                                        if f.name != "operators"}  # fmt: skip


# ---- tensor parallelism -----------------------------------------------------------------------


SHARDED = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
    "lm_head",
    "attention",
]


@pytest.mark.parametrize("t", [2, 4, 8])
@pytest.mark.parametrize("phase", [prefill_pass, decode_pass])
def test_sharded_matmuls_split_exactly(t: int, phase: type) -> None:
    m, p = llama3_8b(), phase(Workload(batch_size=2, prompt_len=64))
    whole = rows(forward_operators(m, p))
    device = rows(stage_operators(m, Parallelism(tensor=t), p, 0))
    for name in SHARDED:
        assert device[name] * t == whole[name], name
    for name in ("input_layernorm", "attn_residual", "final_norm"):  # replicated
        assert device[name] == whole[name]


@pytest.mark.parametrize("t", [2, 4, 8])
def test_experts_split_by_tensor_parallelism(t: int) -> None:
    m, p = mixtral_8x7b(), prefill_pass(Workload(batch_size=2, prompt_len=64))
    whole, device = (
        rows(forward_operators(m, p)),
        rows(stage_operators(m, Parallelism(tensor=t), p, 0)),
    )
    assert device["experts"] * t == whole["experts"]
    assert device["router"] == whole["router"]  # replicated


def test_kv_heads_are_replicated_beyond_their_count() -> None:
    m, p = llama3_8b(), decode_pass(Workload(prompt_len=128))  # 8 KV heads
    device = rows(stage_operators(m, Parallelism(tensor=16), p, 0))
    assert device["k_proj"] * 16 == 2 * rows(forward_operators(m, p))["k_proj"]  # 1 head each
    assert shard_model(m, Parallelism(tensor=16)).num_key_value_heads == 1
    report = analyze(m, a100(), Workload(prompt_len=128), Parallelism(tensor=16))
    assert any("replicated on 2 devices" in w for w in report.warnings)


def test_communication_volumes_by_hand() -> None:
    # tiny, t = 2, prefill of 3 tokens: message (3, 4) bf16 = 24 bytes.
    assert all_reduce("x", 24, 2).comm_bytes == 2 * (1 / 2) * 24
    assert all_reduce("x", 100, 8).comm_bytes == 2 * 7 / 8 * 100
    assert all_gather("x", 80, 4).comm_bytes == 3 / 4 * 80
    assert all_reduce("x", 24, 1).comm_bytes == 0
    p = prefill_pass(Workload(prompt_len=3))
    assert pp_send(tiny(), p).comm_bytes == 3 * 4 * 2
    ops = stage_operators(tiny(), Parallelism(tensor=2), p, 0)
    comm = {op.name: (op.comm_bytes, op.instances) for op in ops if op.kind == COMMUNICATION}
    assert comm == {
        "embed_all_reduce": (24.0, 1),
        "attn_all_reduce": (24.0, 2),
        "mlp_all_reduce": (24.0, 2),
        "logits_all_gather": (1 / 2 * 1 * 10 * 2, 1),  # (B=1, V=10) logits, bf16
    }
    names = [op.name for op in ops]
    assert names.index("attn_all_reduce") == names.index("o_proj") + 1
    assert names.index("mlp_all_reduce") == names.index("down_proj") + 1


def test_communication_is_timed_over_the_interconnect() -> None:
    hw = h100()
    roofs = Roofs.of(hw, "bf16")
    op = all_reduce("attn_all_reduce", 450e6, 2)
    assert roofs.ideal_s(op) == pytest.approx(450e6 / 450e9)
    report = analyze(
        llama3_8b(), hw, Workload(batch_size=64, prompt_len=2048), Parallelism(tensor=8)
    )
    row = report.prefill.operator("attn_all_reduce")
    assert row.bound == "communication-bound"
    assert row.comm_bytes == 32 * 2 * 7 / 8 * 64 * 2048 * 4096 * 2
    assert report.parallelism is not None
    assert report.parallelism.comm_bytes["prefill"] == pytest.approx(
        sum(r.comm_bytes for r in report.prefill.operators)
    )


# ---- pipeline parallelism ---------------------------------------------------------------------


def test_stage_bounds() -> None:
    assert stage_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert stage_bounds(4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert micro_batch_sizes(10, 4) == [(3, 2), (2, 2)]
    assert micro_batch_sizes(3, 8) == [(1, 3)]
    assert micro_batch_sizes(7, 1) == [(7, 1)]  # one micro-batch: the whole batch
    assert [(b, n) for b, n in micro_batch_split(7, 1) if n > 0] == [(7, 1)]


def test_stages_partition_the_work() -> None:
    m, p = llama3_8b(), prefill_pass(Workload(batch_size=2, prompt_len=64))
    par = Parallelism(pipeline=4)
    stages = [stage_operators(m, par, p, s) for s in range(4)]
    compute = [op for ops in stages for op in ops if op.kind != COMMUNICATION]
    assert sum(op.flops * op.instances for op in compute) == sum(
        op.flops * op.instances for op in forward_operators(m, p)
    )
    assert sum(op.weight_params * op.instances for op in compute) == m.parameter_count
    assert stages[0][0].name == "embed_tokens"
    assert stages[3][-1].name == "lm_head"
    sends = [op for ops in stages for op in ops if op.name == "pp_send"]
    assert [op.comm_bytes for op in sends] == [2 * 64 * 4096 * 2] * 3


def test_pipeline_bubble_follows_the_fill_drain_formula() -> None:
    m, roofs = llama3_8b(), Roofs.of(h100(), "bf16")
    par = Parallelism(pipeline=4, micro_batches=8)
    timing = time_pass(m, par, prefill_pass(Workload(batch_size=16, prompt_len=512)), roofs)
    stage_s = [ph.expected_time_s for ph in timing.stage_phases]
    bottleneck = stage_s[timing.bottleneck_stage]
    assert timing.phase.expected_time_s == pytest.approx(8 * bottleneck)
    assert timing.fill_drain_s == pytest.approx(sum(stage_s) + 7 * bottleneck)
    bubble = 1 - timing.phase.expected_time_s / timing.fill_drain_s
    assert bubble == pytest.approx((4 - 1) / (8 + 4 - 1), abs=0.02)  # stages nearly equal
    # Decode in steady state with 8 micro-batches over 4 stages: no bubble.
    decode = time_pass(m, par, decode_pass(Workload(batch_size=16, prompt_len=512)), roofs)
    assert decode.steady_s == decode.phase.expected_time_s


def test_pipeline_report_labels_latency_and_busy_time() -> None:
    w = Workload(batch_size=8, prompt_len=256, output_len=32)
    report = analyze(llama3_8b(), h100(), w, Parallelism(pipeline=2, micro_batches=2))
    s = report.parallelism
    assert s is not None
    assert report.metrics.ttft_s == s.latency_s["prefill"] > s.busy_time_s["prefill"]
    assert s.busy_time_s["prefill"] == report.prefill.expected_time_s
    assert s.bubble_fraction["prefill"] == pytest.approx(1 / 3, abs=0.03)
    assert report.metrics.request.prefill_s == report.metrics.ttft_s
    assert s.system_flops["prefill"] == pytest.approx(s.model_flops["prefill"], rel=1e-6)


# ---- expert parallelism -----------------------------------------------------------------------


def test_expert_parallel_moe_by_hand() -> None:
    m = tiny_moe()  # E=8, k=2, 3 layers (the first dense), d=4
    par = Parallelism(expert=2)  # 2 devices, 2 attention replicas of t = 1
    p = prefill_pass(Workload(batch_size=3, prompt_len=4))  # T = 12 over the stage
    ops = stage_operators(m, par, p, 0)
    comm = {op.name: op.comm_bytes for op in ops if op.kind == COMMUNICATION}
    home = 12 / 2  # tokens each device dispatches
    assert comm == {
        "moe_dispatch": home * 2 * (1 / 2) * 4 * 2,
        "moe_combine": home * 2 * (1 / 2) * 4 * 2,
    }
    experts = next(op for op in ops if op.name == "experts")
    whole = next(op for op in forward_operators(m, p) if op.name == "experts")
    assert experts.flops * 2 == whole.flops
    assert experts.weight_params == 4 * m.expert_params
    # The replica runs ⌈3/2⌉ = 2 sequences: attention-side matmuls see 8 tokens.
    assert next(op for op in ops if op.name == "q_proj").shape[0] == 8
    assert all_to_all("x", 6, m, p, par).comm_bytes == comm["moe_dispatch"]


@pytest.mark.parametrize(
    "par",
    [
        Parallelism(tensor=8),
        Parallelism(expert=8),
        Parallelism(tensor=8, expert=8),
        Parallelism(tensor=4, pipeline=4, micro_batches=4),
    ],
)
def test_deepseek_v3_and_mixtral_end_to_end(par: Parallelism) -> None:
    w = Workload(batch_size=16, prompt_len=512, output_len=64, weight_dtype="fp8")
    for m in (deepseek_v3(), mixtral_8x7b()):
        report = analyze(m, h100(), w, par)
        s = report.parallelism
        assert s is not None and s.devices == par.devices
        for name, phase in report.phases.items():
            assert phase.flops > 0
            assert s.per_device_flops[name] == phase.flops
            assert s.system_flops[name] >= s.model_flops[name] * 0.99
            assert report.metrics.mfu[name] == pytest.approx(
                s.model_flops[name] / s.latency_s[name] / (989.4e12 * par.devices)
            )
        assert (
            report.metrics.memory.weight_bytes < analyze(m, h100(), w).metrics.memory.weight_bytes
        )
        assert Report.from_json(report.to_json()) == report


def test_mla_latent_cache_is_replicated_across_tensor_parallel_devices() -> None:
    m, w = deepseek_v3(), Workload(batch_size=4, prompt_len=1024, output_len=0)
    single = analyze(m, h100(), w).metrics.memory.kv_cache_bytes
    report = analyze(m, h100(), w, Parallelism(tensor=8))
    assert report.metrics.memory.kv_cache_bytes == single == 4 * 1024 * 70_272
    assert any("latent" in line for line in report.warnings)
    dp = analyze(m, h100(), w, Parallelism(expert=4))  # DP attention: one sequence each
    assert dp.metrics.memory.kv_cache_bytes == single / 4


def test_llama_70b_tensor_parallel_memory_per_device() -> None:
    m, w = get_model("llama-3.1-70b"), Workload(batch_size=8, prompt_len=2048, output_len=256)
    single = analyze(m, h100(), w).metrics.memory
    report = analyze(m, h100(), w, Parallelism(tensor=8))
    memory = report.metrics.memory
    assert memory.weight_bytes == pytest.approx(single.weight_bytes / 8, rel=0.001)
    assert memory.kv_cache_bytes == single.kv_cache_bytes / 8  # 8 KV heads, one each
    assert memory.fits and not single.fits
    assert report.parallelism is not None
    assert report.parallelism.system_weight_bytes >= single.weight_bytes


def test_critical_batch_is_per_device() -> None:
    m, w = llama3_8b(), Workload(prompt_len=128, context_len=128)
    par = Parallelism(tensor=2)
    report = analyze(m, h100(), w, par)
    found = report.metrics.critical_batch_size
    assert found is not None and "each device" in report.metrics.critical_batch_size_reason
    roofs = Roofs.of(h100(), "bf16")
    assert time_pass(m, par, decode_pass(w, batch=found), roofs).phase.bound == "compute-bound"
    assert time_pass(m, par, decode_pass(w, batch=found - 1), roofs).phase.bound == "memory-bound"


def test_request_sum_over_contexts_matches_the_step_by_step_sum() -> None:
    m, hw = llama3_8b(), h100()
    w = Workload(batch_size=4, prompt_len=100, output_len=40)
    par = Parallelism(tensor=2, pipeline=2)
    roofs = Roofs.of(hw, "bf16")
    report = analyze(m, hw, w, par)
    steps = [
        time_pass(m, par, decode_pass(w, context=c), roofs).steady_s for c in range(100, 139)
    ]  # 39 steps after the first token
    assert report.metrics.request.decode_s == pytest.approx(sum(steps), rel=1e-6)


def test_matmul_kinds_stay_matmuls_and_comm_ops_move_no_memory() -> None:
    ops = stage_operators(
        mixtral_8x7b(), Parallelism(tensor=2, expert=2), Pass.of(Workload(), new=1, past=10), 0
    )
    for op in ops:
        if op.kind == COMMUNICATION:
            assert op.bytes == 0 and op.flops == 0 and op.comm_bytes > 0
    assert {op.kind for op in ops if op.name in ("q_proj", "experts")} == {MATMUL}
    assert build_phase(ops, Roofs.of(h100(), "bf16")).time_s > 0
