"""Findings in known situations, with numbers checked by hand or by an independent path.

The devices are made up so that the arithmetic is easy: a huge peak makes every operator
memory-bound (time = bytes / bandwidth exactly), a tiny one makes everything compute-bound.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.engine.ops import ATTENTION, MATMUL
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.units import format_bytes, format_seconds
from llm_roofline.studies.findings import (
    MAX_FINDINGS,
    attention_impl_finding,
    attention_share_finding,
    attention_time_share,
    batch_finding,
    decode_bytes_finding,
    findings,
    long_prompt,
    matmul_critical_batch,
    memory_finding,
    prefill_finding,
)

D, FF, V, L = 1024, 4096, 1000, 2


def mha(max_len: int | None = None) -> Model:
    """d=1024, 2 layers, 8 heads of 128 (MHA), gated MLP 4096, vocab 1000, untied head."""
    return Model("mha", V, D, L, 8, 8, 128, FF, max_position_embeddings=max_len)


def gqa(kv_heads: int) -> Model:
    return Model("gqa", V, D, L, 8, kv_heads, 128, FF)


# Matmul weights of mha(): per layer q, k, v, o (4·d²) and the MLP (3·d·FF); the head d·V.
MATMUL_PARAMS = L * (4 * D * D + 3 * D * FF) + D * V


def device(
    peak: float, bandwidth: float = 1e12, memory: float = 1e12, fp8: bool = True
) -> Hardware:
    peaks = {"bf16": peak, **({"fp8": 2 * peak} if fp8 else {})}
    return Hardware("made-up", peaks, bandwidth, memory)


ALL_MEMORY = device(5e16, bandwidth=5e10)  # ridge 1e6 FLOP/byte: all memory-bound
RIDGE_295 = device(295e12)  # an H100-like ridge point with round numbers


# ---- decode bytes and the what-ifs ----------------------------------------------------


def test_decode_weights_dominate_and_int8_halves_them() -> None:
    m = mha()
    w = Workload(prompt_len=16, output_len=0)
    r = analyze(m, ALL_MEMORY, w)
    line = decode_bytes_finding(m, ALL_MEMORY, w, r)
    assert line is not None
    # bf16 -> int8 saves one byte per matmul weight except the lm_head's (1000 × 1024,
    # kept in 16 bits); everything is memory-bound, so TPOT falls by exactly the bytes
    # saved over the bytes moved.
    cut = (MATMUL_PARAMS - V * D) * 1.0 / r.decode.bytes
    assert 0.47 < cut < 0.49  # by hand: 33,554,432 of about 69.3 MB
    assert f"int8 weights would cut TPOT by about {cut:.0%}" in line
    assert "48%" in line
    weights = sum(row.weight_bytes for row in r.decode.operators) / r.decode.bytes
    assert weights > 0.99
    assert line.startswith(f"decode is memory-bound: its {format_bytes(r.decode.bytes)} per step")
    assert f"{weights:.0%} weights" in line
    assert "(fp8 KV cache: 0%)" in line


def test_decode_kv_cache_dominates_at_long_context() -> None:
    m = mha()
    w = Workload(batch_size=64, prompt_len=16, context_len=65536, output_len=0)
    r = analyze(m, ALL_MEMORY, w)
    line = decode_bytes_finding(m, ALL_MEMORY, w, r)
    assert line is not None
    # KV read: 64 sequences × 2 layers × (K and V) × 1024 × 65,536 tokens × 2 bytes = 34.4 GB
    kv = sum(row.kv_bytes for row in r.decode.operators)
    assert kv == pytest.approx(64 * L * 2 * D * 65536 * 2, rel=1e-3)
    assert kv / r.decode.bytes > 0.99
    assert "fp8 KV cache would cut TPOT by about 50%" in line
    assert "(int8 weights: 0%)" in line


def test_no_decode_bytes_finding_when_decode_is_compute_bound() -> None:
    m, hw = mha(), device(1e9, bandwidth=1e14)  # ridge 1e-5: everything compute-bound
    w = Workload(prompt_len=16)
    assert decode_bytes_finding(m, hw, w, analyze(m, hw, w)) is None


def test_int4_weights_have_no_smaller_weight_option() -> None:
    m = mha()
    w = Workload(prompt_len=16, weight_dtype="int4", kv_dtype="int4")
    line = decode_bytes_finding(m, ALL_MEMORY, w, analyze(m, ALL_MEMORY, w))
    assert line is not None and "would cut" not in line


# ---- batching --------------------------------------------------------------------------


def _matmul_ai(m: Model, hw: Hardware, w: Workload, batch: int) -> float:
    rows = [r for r in analyze(m, hw, replace(w, batch_size=batch)).decode.operators]
    rows = [r for r in rows if r.kind == MATMUL]
    return sum(r.flops for r in rows) / sum(r.bytes for r in rows)


@pytest.mark.parametrize(("kv_heads", "ai"), [(8, "1.0"), (2, "4.0"), (1, "8.0")])
def test_decode_attention_intensity_is_the_gqa_ratio(kv_heads: int, ai: str) -> None:
    # Per (query, key) pair and head: 4·hd FLOPs; per cached token and KV head: 2·hd·2 bytes.
    # AI = 4·hd·n_q / (4·hd·n_kv) = n_q / n_kv, whatever the batch.
    m = gqa(kv_heads)
    w = Workload(prompt_len=4096, output_len=0)
    r = analyze(m, RIDGE_295, w)
    line = batch_finding(m, RIDGE_295, w, r)
    assert line is not None
    assert f"decode attention stays memory-bound at any batch (AI ≈ {ai} FLOP/byte" in line
    assert "ridge 295" in line


def test_matmul_crossing_is_checked_by_an_independent_path() -> None:
    m = mha()
    w = Workload(prompt_len=4096, output_len=0)
    r = analyze(m, RIDGE_295, w)
    n = matmul_critical_batch(m, w, Roofs.of(RIDGE_295, "bf16"))
    assert n is not None
    # A bf16 (B, d) @ (d, n) matmul: 2·B·d·n FLOPs over 2·(d·n + B·(d + n)) bytes, so
    # AI >= r from B = r·d·n / (d·n − r·(d + n)): 461 for the MLP's 1024×4096, 696 for
    # the 1024×1024 projections. Together they cross in between.
    assert 461 <= n <= 696
    assert _matmul_ai(m, RIDGE_295, w, n) >= 295 > _matmul_ai(m, RIDGE_295, w, n - 1)
    line = batch_finding(m, RIDGE_295, w, r)
    assert line is not None and f"turn compute-bound from batch {n:,}" in line


def test_decode_turns_compute_bound_with_mqa_on_a_low_ridge() -> None:
    hw = device(5e12)  # ridge 5; MQA decode attention AI is 8
    m = gqa(1)
    w = Workload(prompt_len=512, output_len=0)
    r = analyze(m, hw, w)
    n = r.metrics.critical_batch_size
    assert n is not None and n > 1
    line = batch_finding(m, hw, w, r)
    bigger = analyze(m, hw, replace(w, batch_size=n))
    assert line is not None
    assert line.startswith(f"decode turns compute-bound at batch {n:,} (now 1)")
    assert f"{bigger.metrics.tokens_per_s:,.0f} tokens/s" in line
    assert format_seconds(bigger.metrics.tpot_s) in line
    assert bigger.metrics.tokens_per_s > 1.05 * r.metrics.tokens_per_s
    past = replace(w, batch_size=n + 1)
    line = batch_finding(m, hw, past, analyze(m, hw, past))
    assert line is not None and line.startswith(f"decode is compute-bound from batch {n:,}")


# ---- memory ----------------------------------------------------------------------------


def test_memory_room_is_capacity_after_weights_over_per_sequence_bytes() -> None:
    hw = device(295e12, memory=1e9)
    m = mha()
    w = Workload(prompt_len=1000, output_len=24)
    r = analyze(m, hw, w)
    mem = r.metrics.memory
    # KV per sequence: 2 layers × (K, V) × 1024 × 1024 tokens × 2 bytes = 8,388,608 bytes.
    assert mem.kv_cache_bytes == 2 * 2 * 1024 * 1024 * 2
    # Continuous batching, 10% kept free (900 MB usable): weights 71,215,104 B, one
    # 1000-token prompt's act_fn live (3 × 1000 × 4096 × 2 B = 24,576,000 B, larger than
    # the decode step's at these batches), 8,388,608 B of KV per sequence:
    # (900,000,000 − 71,215,104 − 24,576,000) / 8,388,608 = 95.87.
    assert mem.weight_bytes == 71_215_104
    largest = 95
    line = memory_finding(m, hw, w, r)
    assert line is not None
    assert f"up to batch {largest:,} fits at 1,024 tokens per sequence" in line
    assert "10% of memory kept free" in line
    assert line.startswith(f"memory: {format_bytes(mem.total_bytes)} of 1.00 GB used")


def test_kv_cache_that_does_not_fit() -> None:
    hw = device(295e12, memory=1e9)
    m = mha()
    w = Workload(batch_size=200, prompt_len=1000, output_len=24)
    r = analyze(m, hw, w)
    assert not r.metrics.memory.fits
    line = memory_finding(m, hw, w, r)
    assert line is not None
    assert line.startswith(  # the activations (below) are the largest part here
        f"this batch does not fit: {format_bytes(r.metrics.memory.total_bytes)} needed"
    )
    assert "1.00 GB available" in line
    # Weights: 34,578,432 matmul weights + the 1000×1024 embedding + 5 norms of 1024, at 2 B.
    mem = r.metrics.memory
    assert mem.weight_bytes == 2 * (MATMUL_PARAMS + V * D + 5 * D) == 71_215_104
    # Peak activations: act_fn over 200,000 tokens reads gate and up, writes one (T, 4096).
    assert mem.activation_bytes == 3 * 200 * 1000 * FF * 2
    # The largest batch under continuous batching: 95, as derived in the test above.
    assert "; batch 95 fits at 1,024 tokens per sequence" in line


def test_kv_cache_that_does_not_fit_at_a_long_output() -> None:
    hw = device(295e12, memory=1e9)
    m = mha()
    w = Workload(batch_size=8, prompt_len=1000, output_len=20_000)
    r = analyze(m, hw, w)
    line = memory_finding(m, hw, w, r)
    # KV per sequence: 2 layers × (K, V) × 1024 × 21,000 tokens × 2 bytes = 172,032,000 B;
    # one prompt's act_fn live: 3 × 1000 × 4096 × 2 = 24,576,000 B; 90% of 1e9 usable:
    # (900,000,000 − 71,215,104 − 24,576,000) / 172,032,000 = 4.67.
    assert line is not None
    assert line.startswith("the KV cache for this batch does not fit")
    assert "; batch 4 fits at 21,000 tokens per sequence" in line


def test_weights_alone_do_not_fit() -> None:
    hw = device(295e12, memory=50e6)
    m = mha()
    w = Workload(prompt_len=16)
    r = analyze(m, hw, w)
    line = memory_finding(m, hw, w, r)
    int8 = analyze(m, hw, replace(w, weight_dtype="int8")).metrics.memory.weight_bytes
    assert line is not None
    assert line.startswith("the weights alone do not fit")
    assert "shard across 2+ devices" in line  # 71 MB of weights on 50 MB devices
    assert f"int8 weights would take {format_bytes(int8)}" in line


# ---- prefill ---------------------------------------------------------------------------


def test_short_prefill_is_memory_bound_until_the_critical_prompt() -> None:
    m = mha()
    w = Workload(prompt_len=8)
    r = analyze(m, RIDGE_295, w)
    n = r.metrics.critical_prompt_len
    assert r.prefill.bound == "memory-bound" and n is not None and n > 8
    line = prefill_finding(m, RIDGE_295, w, r)
    assert line is not None
    assert line.startswith(
        f"prefill of 8 tokens is memory-bound (it turns compute-bound from {n:,}"
    )


def test_long_prefill_is_compute_bound_and_fp8_halves_it() -> None:
    m = mha()
    w = Workload(prompt_len=4096)
    r = analyze(m, RIDGE_295, w)
    line = prefill_finding(m, RIDGE_295, w, r)
    fp8 = analyze(m, RIDGE_295, replace(w, activation_dtype="fp8"))
    cut = 1 - fp8.metrics.ttft_s / r.metrics.ttft_s
    assert line is not None and line.startswith("prefill is compute-bound")
    assert f"fp8 compute would cut TTFT by about {cut:.0%}" in line
    assert 0.45 < cut <= 0.5  # twice the peak; the memory-bound element-wise ops halve too
    no_fp8 = device(295e12, fp8=False)
    line = prefill_finding(m, no_fp8, w, analyze(m, no_fp8, w))
    assert line is not None and "fp8" not in line


# ---- attention -------------------------------------------------------------------------


def test_attention_share_grows_with_the_prompt_up_to_the_model_maximum() -> None:
    m = mha(max_len=8192)
    w = Workload(prompt_len=2048)
    assert long_prompt(m, w) == 8192  # 16 × 2048 is capped at the model's 8,192
    r = analyze(m, RIDGE_295, w)
    now = sum(x.time_s for x in r.prefill.operators if x.kind == ATTENTION) / r.prefill.time_s
    later_report = analyze(m, RIDGE_295, replace(w, prompt_len=8192))
    later = attention_time_share(later_report.prefill)
    assert later > now
    line = attention_share_finding(m, RIDGE_295, w, r)
    assert line == (
        f"attention is {now:.0%} of prefill time at 2,048 prompt tokens and {later:.0%} at "
        "8,192 (its FLOPs grow with the square of the prompt, the matmuls' linearly)"
    )


@pytest.mark.parametrize("max_len", [2048, 4095])
def test_attention_share_near_the_maximum_prompt_has_no_look_ahead(max_len: int) -> None:
    m = mha(max_len=max_len)  # looking ahead to less than twice the prompt says little
    w = Workload(prompt_len=2048)
    line = attention_share_finding(m, RIDGE_295, w, analyze(m, RIDGE_295, w))
    assert line is not None and line.endswith("at 2,048 prompt tokens")


def test_attention_share_with_sliding_windows_names_the_window() -> None:
    m = Model("swa", V, D, L, 8, 8, 128, FF, sliding_window=1024, sliding_window_layers=(0, 1))
    w = Workload(prompt_len=2048)
    line = attention_share_finding(m, RIDGE_295, w, analyze(m, RIDGE_295, w))
    assert line is not None and line.endswith(
        "at 32,768 (sliding-window layers attend to at most 1,024 tokens)"
    )


def test_eager_attention_finding_only_with_eager() -> None:
    m = mha()
    w = Workload(prompt_len=4096, attention="eager")
    r = analyze(m, RIDGE_295, w)
    flash = analyze(m, RIDGE_295, replace(w, attention="flash"))
    line = attention_impl_finding(m, RIDGE_295, w, r)
    cut = 1 - flash.metrics.ttft_s / r.metrics.ttft_s
    assert cut > 0
    assert line is not None and f"flash attention would cut TTFT by about {cut:.0%}" in line
    assert attention_impl_finding(m, RIDGE_295, replace(w, attention="flash"), flash) is None


# ---- the whole list --------------------------------------------------------------------


@pytest.mark.parametrize(
    "workload",
    [
        Workload(),
        Workload(prompt_len=64),
        Workload(batch_size=256, prompt_len=32768, output_len=1024),
        Workload(attention="eager", weight_dtype="int4"),
    ],
)
def test_three_to_six_distinct_lines(workload: Workload) -> None:
    m = Model("llama-3-8b", 128256, 4096, 32, 32, 8, 128, 14336, max_position_embeddings=8192)
    hw = Hardware("H100", {"bf16": 989.4e12, "fp8": 1978.9e12}, 3.35e12, 80e9)
    lines = findings(m, hw, workload, analyze(m, hw, workload))
    assert 3 <= len(lines) <= MAX_FINDINGS
    assert len(set(lines)) == len(lines)
    assert all(isinstance(line, str) and line for line in lines)


def test_flat_throughput_below_the_critical_batch_is_said_so() -> None:
    # Ridge 20 with a 128-token context: the matmuls are compute-bound from batch ~25, the
    # phase only from ~30; in between a larger batch adds no tokens/s.
    hw, m = device(20e12), mha()
    w = Workload(prompt_len=128, output_len=0)
    n = analyze(m, hw, w).metrics.critical_batch_size
    assert n is not None and n > 2
    just_below = replace(w, batch_size=n - 1)
    r = analyze(m, hw, just_below)
    bigger = analyze(m, hw, replace(w, batch_size=n))
    assert bigger.metrics.tokens_per_s < 1.05 * r.metrics.tokens_per_s
    line = batch_finding(m, hw, just_below, r)
    assert line is not None
    assert line.startswith(
        f"decode turns compute-bound at batch {n:,} (now {n - 1:,}), but a larger batch no "
        "longer raises throughput"
    )
