"""The engine end to end: published checks, invariants, solvers, request integration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import (
    ALL_MODELS,
    a100,
    gemma2_like,
    llama2_7b,
    llama3_8b,
    mistral_7b,
    mixtral_8x7b,
    tiny,
    tiny_moe,
)
from llm_roofline import Hardware, Model, Report, Workload, analyze
from llm_roofline.engine.ops import MATMUL, OpCost, decode_pass, prefill_pass
from llm_roofline.engine.phase import build_phase
from llm_roofline.engine.seed import seed_phase_intensity
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.engine.timing import Roofs


def test_llama2_7b_decode_by_hand() -> None:
    m, hw = llama2_7b(), a100()
    report = analyze(m, hw, Workload(batch_size=1, prompt_len=2048, context_len=2048))
    decode = report.decode
    weights = sum(r.weight_bytes for r in decode.operators)
    # 2 bytes × every parameter except the embedding table, + the one gathered row.
    assert weights == 2 * (6_738_415_616 - 32000 * 4096) + 4096 * 2 == 13_214_687_232 + 8_192
    assert decode.operator("attention").kv_bytes == 2 * 32 * 32 * 128 * 2048 * 2 == 1_073_741_824
    assert decode.bound == "memory-bound"
    all_bytes = weights + sum(r.kv_bytes + r.activation_bytes for r in decode.operators)
    assert decode.time_s == pytest.approx(all_bytes / 2.039e12, rel=0.01)
    assert report.prefill.bound == "compute-bound"


def test_lm_head_is_read_for_an_untied_model() -> None:
    report = analyze(llama2_7b(), a100(), Workload(prompt_len=16))
    head = report.decode.operator("lm_head")
    assert head.weight_bytes == 4096 * 32000 * 2
    assert head.flops == 2 * 4096 * 32000  # 2 FLOPs per MAC for the one last token


@pytest.mark.parametrize("make", ALL_MODELS)
def test_operator_weights_sum_to_the_parameter_count(make: type) -> None:
    m: Model = make()
    ops = forward_operators(m, prefill_pass(Workload(prompt_len=8)))
    assert sum(op.weight_params * op.instances for op in ops) == m.parameter_count


@pytest.mark.parametrize("make", ALL_MODELS)
@pytest.mark.parametrize(
    "workload",
    [
        Workload(),
        Workload(batch_size=16, prompt_len=512, context_len=4000, attention="eager"),
        Workload(batch_size=3, prompt_len=100, weight_dtype="int4", kv_dtype="fp8", causal=False),
        Workload(prompt_len=64, logits="all", activation_dtype="fp32", weight_dtype="fp32"),
    ],
)
def test_invariants(make: type, workload: Workload) -> None:
    report = analyze(make(), a100(), workload)
    peak, bw = report.peak_flops_per_s, report.bandwidth_bytes_per_s
    for phase in report.phases.values():
        rows = phase.operators
        assert phase.flops == pytest.approx(sum(r.flops for r in rows))
        assert phase.bytes == pytest.approx(sum(r.bytes for r in rows))
        assert phase.time_s == pytest.approx(sum(r.time_s for r in rows))
        assert phase.time_s >= max(phase.flops / peak, phase.bytes / bw) * (1 - 1e-12)
        assert phase.expected_time_s >= phase.time_s
        assert 0 <= phase.memory_bound_time_fraction <= 1
        for r in rows:
            assert r.flops >= 0 and r.bytes > 0, r
            assert r.bytes == pytest.approx(r.weight_bytes + r.activation_bytes + r.kv_bytes)
            assert r.arithmetic_intensity == pytest.approx(r.flops / r.bytes)
            assert r.time_s >= max(r.flops / peak, r.bytes / bw) * (1 - 1e-12)
            expected_bound = "compute-bound" if r.flops / r.bytes >= peak / bw else "memory-bound"
            assert r.bound == expected_bound


def test_engine_reduces_to_the_seed_exercise() -> None:
    # One operator per layer carrying the exercise's counts: 12·d² weights, no attention
    # or KV, one activation in and one out per token.
    d, L, b = 4096, 32, 2
    roofs = Roofs.of(Hardware("x", {"bf16": 312e12}, 2.039e12, 1e11), "bf16")
    for s in (1, 7, 512, 4096):
        layer = OpCost(
            "seed_layer",
            MATMUL,
            flops=2 * s * 12 * d * d,
            weight_bytes=12 * d * d * b,
            activation_bytes=2 * s * d * b,
            instances=L,
        )
        phase = build_phase([layer], roofs)
        assert phase.arithmetic_intensity == pytest.approx(
            seed_phase_intensity(d, L, s, b), rel=1e-12
        )


def test_decode_weight_bytes_do_not_grow_with_batch_but_kv_does() -> None:
    m, hw = llama3_8b(), a100()
    one = analyze(m, hw, Workload(batch_size=1, context_len=1000)).decode
    many = analyze(m, hw, Workload(batch_size=32, context_len=1000)).decode
    matmul_weights = lambda p: sum(r.weight_bytes for r in p.operators if r.kind == MATMUL)  # noqa: E731
    assert matmul_weights(one) == matmul_weights(many)
    assert (
        many.operator("embed_tokens").weight_bytes == 32 * one.operator("embed_tokens").weight_bytes
    )
    assert many.operator("attention").kv_bytes == 32 * one.operator("attention").kv_bytes


def test_moe_weight_bytes_grow_with_batch_towards_all_experts() -> None:
    m, hw = mixtral_8x7b(), a100()
    expert_bytes = [
        analyze(m, hw, Workload(batch_size=b, prompt_len=16))
        .decode.operator("experts")
        .weight_bytes
        for b in (1, 2, 8, 64)
    ]
    one_expert = 3 * 4096 * 14336 * 2 * 32  # per layer × 32 layers
    assert expert_bytes[0] == pytest.approx(2 * one_expert)
    assert expert_bytes == sorted(expert_bytes)
    assert expert_bytes[-1] == pytest.approx(8 * one_expert, rel=1e-3)


def _is_compute_bound_decode(m: Model, w: Workload, batch: int) -> bool:
    return analyze(m, a100(), replace(w, batch_size=batch)).decode.bound == "compute-bound"


@pytest.mark.parametrize("make", [llama3_8b, mistral_7b, tiny, tiny_moe, mixtral_8x7b])
def test_critical_batch_size_is_the_first_compute_bound_batch(make: type) -> None:
    m, w = make(), Workload(prompt_len=64, context_len=64)
    critical = analyze(m, a100(), w).metrics.critical_batch_size
    if critical is None:
        assert not _is_compute_bound_decode(m, w, 1 << 20)
        return
    assert _is_compute_bound_decode(m, w, critical)
    assert critical == 1 or not _is_compute_bound_decode(m, w, critical - 1)


def test_critical_batch_is_none_when_kv_traffic_dominates() -> None:
    # Llama-2-7B (MHA) at context 2048: each sequence adds ~13 FLOP/byte, ridge is 153.
    metrics = analyze(llama2_7b(), a100(), Workload(context_len=2048)).metrics
    assert metrics.critical_batch_size is None
    assert "memory-bound at any batch" in metrics.critical_batch_size_reason


@pytest.mark.parametrize("make", [llama2_7b, gemma2_like, tiny_moe])
def test_critical_prompt_len_is_the_first_compute_bound_prompt(make: type) -> None:
    m, hw = make(), a100()
    critical = analyze(m, hw, Workload(prompt_len=16)).metrics.critical_prompt_len
    assert critical is not None
    bound = lambda s: analyze(m, hw, Workload(prompt_len=s)).prefill.bound  # noqa: E731
    assert bound(critical) == "compute-bound"
    assert critical == 1 or bound(critical - 1) == "memory-bound"


@pytest.mark.parametrize("batch", [1, 4, 32])
@pytest.mark.parametrize("make", [mixtral_8x7b, tiny_moe])
def test_a_moe_critical_prompt_len_is_the_first_compute_bound_prompt(
    make: type, batch: int
) -> None:
    # At 600-token prompts every expert is touched (the weight reads stop growing): the
    # prompt's quadratic gives the answer, or the search does where it lies below that.
    m, hw = make(), a100()
    w = Workload(batch_size=batch, prompt_len=600)
    critical = analyze(m, hw, w).metrics.critical_prompt_len
    assert critical is not None
    bound = lambda s: analyze(m, hw, replace(w, prompt_len=s)).prefill.bound  # noqa: E731
    assert bound(critical) == "compute-bound"
    assert critical == 1 or bound(critical - 1) == "memory-bound"


@pytest.mark.parametrize("make", [llama3_8b, mixtral_8x7b])
def test_the_critical_prompt_does_not_depend_on_the_prompt_analyzed(make: type) -> None:
    # 32 prompts of 8000 tokens gather every embedding row (256,000 tokens > the 128,256 or
    # 32,000 of the vocabulary): the prefill is fitted past the embedding's cap, the answer
    # lies below it (it was one token off for Llama-3.1-8B: 7 instead of 6).
    m, hw = make(), a100()
    answers = {
        prompt: analyze(m, hw, Workload(batch_size=32, prompt_len=prompt)).metrics
        for prompt in (600, 8000)
    }
    critical = answers[600].critical_prompt_len
    assert critical is not None and answers[8000].critical_prompt_len == critical
    w = Workload(batch_size=32)
    bound = lambda s: analyze(m, hw, replace(w, prompt_len=s)).prefill.bound  # noqa: E731
    assert bound(critical) == "compute-bound" and bound(critical - 1) == "memory-bound"


def test_the_critical_batch_does_not_depend_on_the_batch_analyzed() -> None:
    # A 64-token vocabulary: batches from 65 on gather at most 64 embedding rows.
    m, w = replace(llama3_8b(), vocab_size=64), Workload(prompt_len=64, context_len=64)
    answers = {
        b: analyze(m, a100(), replace(w, batch_size=b)).metrics.critical_batch_size
        for b in (4, 64, 65, 2000)
    }
    critical = answers[4]
    assert critical is not None and set(answers.values()) == {critical}
    assert _is_compute_bound_decode(m, w, critical)
    assert not _is_compute_bound_decode(m, w, critical - 1)


@pytest.mark.parametrize("make", [llama3_8b, mistral_7b, tiny, tiny_moe])
@pytest.mark.parametrize("attention", ["flash", "eager"])
def test_request_time_equals_the_step_by_step_sum(make: type, attention: str) -> None:
    m, hw = make(), a100()
    m = replace(m, sliding_window=40, sliding_window_layers=(0,)) if m.sliding_window else m
    w = Workload(batch_size=4, prompt_len=30, output_len=25, attention=attention)
    report = analyze(m, hw, w)
    roofs = Roofs.of(hw, "bf16")
    # TTFT yields the first of the 25 tokens; 24 decode steps at contexts 30 .. 53 follow.
    steps = [
        build_phase(forward_operators(m, decode_pass(w, context=30 + i)), roofs) for i in range(24)
    ]
    assert report.metrics.request.decode_s == pytest.approx(
        sum(s.expected_time_s for s in steps), rel=1e-9
    )
    ideal = report.prefill.time_s + sum(s.time_s for s in steps)
    assert report.metrics.request.ideal_total_s == pytest.approx(ideal, rel=1e-9)


def test_metrics_by_hand() -> None:
    report = analyze(llama2_7b(), a100(), Workload(batch_size=4, prompt_len=512, output_len=128))
    m = report.metrics
    assert m.ttft_s == report.prefill.expected_time_s
    assert m.tpot_s == report.decode.expected_time_s
    assert m.tokens_per_s == pytest.approx(4 / m.tpot_s)
    assert m.mbu["decode"] == pytest.approx(report.decode.bytes / m.tpot_s / 2.039e12)
    assert m.memory.kv_cache_bytes == 4 * (512 + 128) * 32 * 2 * 4096 * 2
    assert m.memory.weight_bytes == 6_738_415_616 * 2
    assert m.memory.fits


def test_kv_cache_that_does_not_fit() -> None:
    memory = analyze(
        llama2_7b(), a100(), Workload(batch_size=64, prompt_len=4000, output_len=96)
    ).metrics.memory
    assert memory.kv_cache_bytes == 64 * 4096 * 524288  # 0.5 MiB per token
    assert not memory.fits


def test_sliding_window_caps_the_kv_cache() -> None:
    m = mistral_7b()
    assert m.kv_cache_bytes(10_000, 2) == m.kv_cache_bytes(4096, 2) == 32 * 4096 * 2 * 1024 * 2


def test_report_round_trips_through_json() -> None:
    report = analyze(mixtral_8x7b(), a100(), Workload(batch_size=8))
    assert Report.from_json(report.to_json()) == report
    data = report.to_dict()
    assert next(iter(data)) == "schema" and data["schema"] == "llm-roofline/report/v2"
    assert set(data["metrics"]) >= {
        "ttft_s",
        "tpot_s",
        "tokens_per_s",
        "mfu",
        "mbu",
        "memory",
        "critical_batch_size",
        "critical_prompt_len",
    }
    bad = dict(data, schema="other/v9")
    with pytest.raises(ValueError, match="schema"):
        Report.from_dict(bad)
    with pytest.raises(ValueError, match="unknown keys"):
        Report.from_dict(dict(data, surprise=1))


def test_fp16_only_device_runs_bf16_at_its_fp16_rate_with_a_warning() -> None:
    v100 = Hardware("V100", {"fp32": 15.7e12, "fp16": 125e12}, 900e9, 32e9)
    report = analyze(tiny(), v100, Workload(prompt_len=8))
    assert report.compute_dtype == "fp16" and report.peak_flops_per_s == 125e12
    assert any("no bf16 peak" in w for w in report.warnings)


def test_missing_dtype_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no fp8 peak"):
        analyze(tiny(), a100(), Workload(activation_dtype="fp8"))


def test_context_beyond_the_model_maximum_warns() -> None:
    report = analyze(llama2_7b(), a100(), Workload(prompt_len=4000, output_len=500))
    assert any("max_position_embeddings" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"prompt_len": -1}, "prompt_len"),
        ({"context_len": -5}, "context_len"),
        ({"output_len": -1}, "output_len"),
        ({"weight_dtype": "fp64"}, "weight_dtype"),
        ({"activation_dtype": "int4"}, "activation_dtype"),
        ({"attention": "paged"}, "attention"),
        ({"logits": "first"}, "logits"),
        ({"causal": "yes"}, "causal"),
        ({"weight_group_size": 0}, "weight_group_size"),
    ],
)
def test_bad_workloads_name_the_field(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises((ValueError, TypeError), match=needle):
        Workload(**kwargs)  # type: ignore[arg-type]


def test_dtype_spellings_are_normalized() -> None:
    w = Workload(weight_dtype="BFloat16", kv_dtype="float8", activation_dtype="half")
    assert (w.weight_dtype, w.kv_dtype, w.activation_dtype) == ("bf16", "fp8", "fp16")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_key_value_heads": 3}, "num_key_value_heads"),
        ({"norm": "batchnorm"}, "norm"),
        ({"sliding_window_layers": (0,)}, "sliding_window"),
        ({"sliding_window": 16, "sliding_window_layers": (5,)}, "sliding_window_layers"),
        ({"vocab_size": True}, "vocab_size"),
    ],
)
def test_bad_models_name_the_field(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises((ValueError, TypeError), match=needle):
        replace(tiny(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"bandwidth_bytes_per_s": 0}, "bandwidth_bytes_per_s"),
        ({"peak_flops_per_s": {"bf17": 1e12}}, "bf17"),
        ({"peak_flops_per_s": {"bf16": -1.0}}, "peak_flops_per_s.bf16"),
        ({"compute_efficiency": 1.5}, "compute_efficiency"),
        ({"memory_bytes": float("nan")}, "memory_bytes"),
    ],
)
def test_bad_hardware_names_the_field(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises((ValueError, TypeError), match=needle):
        replace(a100(), **kwargs)


def test_peak_activations_of_an_expert_chain_is_its_widest_step() -> None:
    memory = analyze(mixtral_8x7b(), a100(), Workload(prompt_len=1000)).metrics.memory
    # 1000 tokens × top-2 rows: (rows, d) in and (rows, 2·I) out live at once, in bf16
    assert memory.activation_bytes == 1000 * 2 * (4096 + 2 * 14336) * 2 == 131_072_000
