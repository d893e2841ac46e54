"""The serving view: latency, throughput, memory, cost across batch sizes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conftest import a100, llama3_8b, mixtral_8x7b, tiny
from llm_roofline import Hardware, Workload, analyze
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.memory import max_batch_size, serving_memory_bytes
from llm_roofline.inputs.layout import Layout, Parallelism
from llm_roofline.studies.scheduling import chunked_prefill
from llm_roofline.studies.serving import ServingCurve, SpeculativeConfig, serving_curve

W = Workload(prompt_len=512, output_len=64)


def h100() -> Hardware:
    return Hardware("H100 SXM", {"bf16": 989.4e12, "fp8": 1978.9e12}, 3.35e12, 80e9, 450e9)


def test_points_follow_the_reports() -> None:
    m, hw = llama3_8b(), h100()
    curve = serving_curve(m, hw, W, [1, 8, 32], price_per_device_hour=3.0)
    assert [p.batch_size for p in curve.points] == [1, 8, 32]
    for p in curve.points:
        report = analyze(m, hw, replace(W, batch_size=p.batch_size))
        assert p.ttft_s == report.metrics.ttft_s
        assert p.tpot_s == report.metrics.tpot_s
        assert p.e2e_latency_s == report.metrics.ttft_s + report.metrics.request.decode_s
        assert p.output_tokens_per_s == p.batch_size * 64 / p.e2e_latency_s
        assert p.output_tokens_per_s_per_device == p.output_tokens_per_s
        assert p.decode_tokens_per_s == p.batch_size / p.tpot_s
        assert p.cost_per_million_tokens == pytest.approx(3.0 / 3600 / p.output_tokens_per_s * 1e6)
        assert p.memory_bytes_per_device == serving_memory_bytes(m, W, Layout(), p.batch_size)
    rates = [p.output_tokens_per_s for p in curve.points]
    assert rates == sorted(rates)  # batching raises throughput
    assert curve.compute_bound_batch_size == analyze(m, hw, W).metrics.critical_batch_size


def test_max_batch_by_hand_under_continuous_batching() -> None:
    """Llama-3.1-8B, bf16, 512 + 64 tokens, on 80 GB keeping 10% free (72e9 usable).

    weights 8,030,261,248 params × 2 B = 16,060,522,496 B; KV per token 32 layers × 2 ×
    8 KV heads × 128 × 2 B = 131,072 B, × 576 tokens = 75,497,472 B per sequence. The live
    activations of one step: one 512-token prompt's act_fn (reads 2·512·14,336, writes
    512·14,336 elements, 2 B each: 44,040,192 B), or the decode batch's lm_head
    (B·(4,096 + 128,256)·2 B = 264,704·B), larger from B = 167. So at large B the memory
    is 16,060,522,496 + (75,497,472 + 264,704)·B <= 72e9: B <= 738.36.
    """
    m, hw = llama3_8b(), h100()
    weights, per_sequence, head = 16_060_522_496, 75_497_472, 264_704
    assert serving_memory_bytes(m, W, Layout(), 700) == weights + (per_sequence + head) * 700
    assert serving_memory_bytes(m, W, Layout(), 1) == weights + per_sequence + 44_040_192
    assert max_batch_size(m, W, hw, Layout()) == int((72e9 - weights) / (per_sequence + head))
    assert max_batch_size(m, W, hw, Layout()) == 738
    curve = serving_curve(m, hw, W, [1, 738, 739])
    assert curve.max_batch_size == 738
    assert [p.fits for p in curve.points] == [True, True, False]


def test_parallel_layout_spreads_memory_and_throughput() -> None:
    m, hw = get_model("llama-3.1-70b"), h100()
    assert serving_curve(m, hw, W, [1]).max_batch_size is None  # 141 GB of weights
    par = Parallelism(tensor=8)
    curve = serving_curve(m, hw, W, [1, 16], par, price_per_device_hour=2.0)
    assert curve.devices == 8 and curve.parallelism["tensor"] == 8
    assert curve.max_batch_size is not None and curve.max_batch_size > 16
    for p in curve.points:
        assert p.output_tokens_per_s_per_device == p.output_tokens_per_s / 8
        assert p.cost_per_million_tokens == pytest.approx(
            2.0 * 8 / 3600 / p.output_tokens_per_s * 1e6
        )
    found = curve.max_batch_size
    assert serving_memory_bytes(m, W, par, found) <= 0.9 * 80e9
    assert serving_memory_bytes(m, W, par, found + 1) > 0.9 * 80e9


def test_chunked_prefill_and_speculation_columns() -> None:
    m, hw = llama3_8b(), h100()
    curve = serving_curve(
        m, hw, W, [1, 4], chunk_size=128, speculative=SpeculativeConfig(tiny(), 4, 0.8)
    )
    for p in curve.points:
        assert (
            p.ttft_s
            == chunked_prefill(m, hw, replace(W, batch_size=p.batch_size), 128).expected_time_s
        )
        assert p.spec_speedup is not None and p.spec_speedup > 1
        assert p.spec_time_per_token_s is not None and p.spec_time_per_token_s < p.tpot_s
    assert curve.speculative == {"draft": "tiny", "k": 4, "alpha": 0.8}


def test_round_trip() -> None:
    curve = serving_curve(
        mixtral_8x7b(),
        h100(),
        W,
        [1, 2],
        Parallelism(tensor=2, expert=2),
        price_per_device_hour=1.5,
    )
    assert ServingCurve.from_dict(curve.to_dict()) == curve
    assert ServingCurve.from_dict(json.loads(curve.to_json())) == curve
    assert curve.to_dict()["schema"] == "llm-roofline/serving/v1"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"batch_sizes": []}, "batch_sizes"),
        ({"batch_sizes": [0]}, "batch_sizes"),
        ({"reserve_fraction": 1.0}, "reserve_fraction"),
        ({"reserve_fraction": -0.1}, "reserve_fraction"),
        ({"price_per_device_hour": -1.0}, "price_per_device_hour"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        serving_curve(tiny(), a100(), W, **kwargs)  # type: ignore[arg-type]


def test_bad_speculation_names_the_field() -> None:
    with pytest.raises(ValueError, match="spec_k"):
        SpeculativeConfig(tiny(), 0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        SpeculativeConfig(tiny(), 2, 1.5)
