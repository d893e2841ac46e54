"""Chunked prefill and mixed batches (tiny model: V=10, d=4, 2 layers, 2 heads, 1 KV head)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import a100, llama3_8b, tiny, tiny_moe
from llm_roofline import Workload, analyze
from llm_roofline.engine.ops import Pass
from llm_roofline.engine.phase import build_phase
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.engine.timing import Roofs
from llm_roofline.inputs.layout import Parallelism
from llm_roofline.studies.scheduling import chunk_passes, chunked_prefill, merge_step, mixed_step
from test_mla import deepseek_v3, tiny_mla


def total(ops: list, name: str, field: str = "flops") -> float:  # type: ignore[type-arg]
    return sum(getattr(op, field) * op.instances for op in ops if op.name == name)


def test_chunk_passes_cover_the_prompt() -> None:
    passes = chunk_passes(Workload(batch_size=2, prompt_len=10), 4)
    assert [(p.past, p.new, p.batch) for p in passes] == [(0, 4, 2), (4, 4, 2), (8, 2, 2)]
    assert {p.mla_decode for p in passes} == {"naive"}


@pytest.mark.parametrize("bad", [0, -4, 2.5])
def test_bad_chunk_size_names_the_field(bad: object) -> None:
    with pytest.raises((ValueError, TypeError), match="chunk_size"):
        chunked_prefill(tiny(), a100(), Workload(prompt_len=8), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [tiny, llama3_8b, tiny_mla])
def test_one_chunk_is_the_unchunked_prefill(make: type) -> None:
    w = Workload(batch_size=2, prompt_len=64)
    result = chunked_prefill(make(), a100(), w, 64)
    assert len(result.chunks) == 1
    assert result.expected_time_s == result.unchunked_expected_time_s
    assert result.expected_time_s == analyze(make(), a100(), w).metrics.ttft_s
    assert result.overhead_fraction == 0


@pytest.mark.parametrize("window", [None, 24])
def test_chunks_attend_to_the_same_pairs_as_one_pass(window: int | None) -> None:
    m = llama3_8b()
    if window is not None:
        m = replace(m, sliding_window=window, sliding_window_layers=tuple(range(32)))
    w = Workload(batch_size=2, prompt_len=100)
    whole = forward_operators(m, Pass.of(w, new=100, past=0))
    chunks = [forward_operators(m, p) for p in chunk_passes(w, 32)]
    assert sum(total(ops, "attention") for ops in chunks) == total(whole, "attention")
    assert sum(total(ops, "q_proj") for ops in chunks) == total(whole, "q_proj")
    # Every chunk re-reads the weights.
    assert sum(total(ops, "q_proj", "weight_bytes") for ops in chunks) == 4 * total(
        whole, "q_proj", "weight_bytes"
    )


def test_only_the_last_chunk_computes_logits() -> None:
    m, hw, w = llama3_8b(), a100(), Workload(prompt_len=96)
    result = chunked_prefill(m, hw, w, 32)
    passes = chunk_passes(w, 32)
    full = [sum(op.flops * op.instances for op in forward_operators(m, p)) for p in passes]
    head = 2 * 4096 * 128256  # the lm_head of one sequence's last position
    assert [r.flops for r in result.chunks] == [full[0] - head, full[1] - head, full[2]]
    assert result.expected_time_s > result.unchunked_expected_time_s  # weights re-read
    assert result.to_dict()["overhead_fraction"] == result.overhead_fraction > 0


def test_mla_chunks_use_the_naive_form() -> None:
    p = chunk_passes(Workload(prompt_len=8), 4)[1]
    names = {op.name for op in forward_operators(tiny_mla(), p)}
    assert "kv_b_proj" in names and "kv_b_proj_k" not in names
    result = chunked_prefill(
        deepseek_v3(), a100(), Workload(prompt_len=256, weight_dtype="fp8"), 64
    )
    assert len(result.chunks) == 4


def test_chunked_prefill_on_a_parallel_layout() -> None:
    w = Workload(batch_size=4, prompt_len=512)
    par = Parallelism(tensor=2, pipeline=2)
    result = chunked_prefill(llama3_8b(), a100(), w, 512, par)
    assert result.expected_time_s == analyze(llama3_8b(), a100(), w, par).metrics.ttft_s
    assert (
        chunked_prefill(llama3_8b(), a100(), w, 128, par).expected_time_s > result.expected_time_s
    )


def test_mixed_step_by_hand() -> None:
    m, hw = tiny(), a100()
    w = Workload(prompt_len=5)  # decode context 5
    step = mixed_step(m, hw, w, decode_tokens=2, chunk_tokens=3)
    q = step.phase.operator("q_proj")
    assert q.flops == 2 * (2 + 3) * 4 * 4 * 2  # 5 tokens, (4, 4), 2 layers
    assert q.weight_bytes == 4 * 4 * 2 * 2  # read once per layer
    assert q.activation_bytes == (5 * 4 + 5 * 4) * 2 * 2
    head = step.phase.operator("lm_head")
    assert head.flops == 2 * (2 + 1) * 4 * 10 and head.weight_bytes == 4 * 10 * 2
    roofs = Roofs.of(hw, "bf16")
    decode = forward_operators(m, Pass.of(w, new=1, past=5, batch=2))
    chunk = forward_operators(m, Pass.of(w, new=3, past=0, batch=1))
    attention = (
        build_phase(decode, roofs).operator("attention").flops
        + build_phase(chunk, roofs).operator("attention").flops
    )
    assert step.phase.operator("attention").flops == attention
    assert step.decode_only_expected_s == build_phase(decode, roofs).expected_time_s
    assert 0 < step.saved_fraction < 1


def test_mixed_step_of_one_part_is_that_part() -> None:
    m, hw, w = llama3_8b(), a100(), Workload(prompt_len=300)
    only_decode = mixed_step(m, hw, w, decode_tokens=8, chunk_tokens=0)
    assert only_decode.phase == analyze(m, hw, Workload(batch_size=8, prompt_len=300)).decode
    assert only_decode.saved_fraction == 0
    with pytest.raises(ValueError, match="empty"):
        mixed_step(m, hw, w, 0, 0)
    with pytest.raises(ValueError, match="decode_tokens"):
        mixed_step(m, hw, w, -1, 4)


def test_mixed_step_of_mla_and_moe_models() -> None:
    for m in (deepseek_v3(), tiny_moe()):
        step = mixed_step(m, a100(), Workload(prompt_len=512), 16, 256, chunk_past=256)
        assert step.expected_time_s < step.decode_only_expected_s + step.chunk_only_expected_s


def test_merge_refuses_mismatched_instances() -> None:
    p = Pass.of(Workload(), new=1, past=1)
    a = forward_operators(tiny(), p)
    b = [op.times(op.instances + 1) for op in a]
    with pytest.raises(ValueError, match="instances"):
        merge_step(a, b)
