"""Per-operator formulas on shapes small enough to check by hand.

Tiny model: V=10, d=4, 2 layers, 2 query heads and 1 KV head of head_dim 2 (q_dim 4,
kv_dim 2), gated MLP with I=6; bf16 (2 bytes) everywhere unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from conftest import tiny, tiny_moe
from llm_roofline import Workload
from llm_roofline.engine.attention import attended_pairs, attention_ops
from llm_roofline.engine.moe import distinct_experts, moe_ops
from llm_roofline.engine.ops import (
    Pass,
    act_fn,
    decode_pass,
    embed_tokens,
    linear,
    lm_head,
    norm,
    prefill_pass,
    residual,
    rotary_emb,
)
from llm_roofline.engine.sharding import forward_operators
from llm_roofline.inputs.dtypes import weight_bytes_per_element


def bf16(batch: int = 1, new: int = 3, past: int = 0, **kw: object) -> Pass:
    return Pass.of(Workload(batch_size=batch, **kw), new=new, past=past)  # type: ignore[arg-type]


def test_linear_two_flops_per_mac_weights_once() -> None:
    op = linear("q_proj", bf16(new=3), 3, 4, 4)
    assert op.flops == 2 * 3 * 4 * 4 == 96
    assert op.weight_bytes == 4 * 4 * 2 == 32
    assert op.activation_bytes == (3 * 4 + 3 * 4) * 2 == 48
    assert op.kv_bytes == 0
    assert op.weight_params == 16


def test_k_proj_writes_the_cache_in_kv_dtype() -> None:
    p = Pass.of(Workload(kv_dtype="fp8"), new=3, past=0)
    op = linear("k_proj", p, 3, 4, 2, writes_kv=True)
    assert op.flops == 2 * 3 * 4 * 2 == 48
    assert op.activation_bytes == 3 * 4 * 2  # input only; the output goes to the cache
    assert op.kv_bytes == 3 * 2 * 1  # fp8 cache: 1 byte per element


def test_linear_bias_adds_params_and_16_bit_bytes() -> None:
    op = linear("q_proj", bf16(), 3, 4, 4, bias=True)
    assert op.weight_params == 16 + 4
    assert op.weight_bytes == 32 + 4 * 2


def test_int4_weights_carry_group_scales() -> None:
    assert weight_bytes_per_element("int4", 128) == 0.5 + 2 / 128
    p = Pass.of(Workload(weight_dtype="int4", weight_group_size=32), new=1, past=0)
    op = linear("down_proj", p, 1, 64, 64)
    assert op.weight_bytes == 64 * 64 * (0.5 + 2 / 32)
    assert weight_bytes_per_element("int8") == 1.0  # per-channel scales: not counted


def test_norm_rms_and_layer() -> None:
    m = tiny()
    op = norm("input_layernorm", m, bf16(batch=2, new=3))
    assert op.activation_bytes == 2 * (6 * 4) * 2  # (B·T, d) read and written
    assert op.weight_bytes == 4 * 2 and op.weight_params == 4


def test_act_fn_sized_by_intermediate_not_hidden() -> None:
    m = tiny()  # d = 4, I = 6
    op = act_fn(m, bf16(new=3), 3, m.intermediate_size)
    assert op.activation_bytes == (2 * 3 * 6 + 3 * 6) * 2  # gate and up in, (T, I) out
    assert op.activation_bytes != (2 * 3 * 4 + 3 * 4) * 2


def test_rotary_and_residual_traffic() -> None:
    m = tiny()
    assert rotary_emb(m, bf16(new=3)).activation_bytes == 2 * 3 * (4 + 2) * 2
    assert residual("attn_residual", m, bf16(new=3)).activation_bytes == 3 * 3 * 4 * 2


@pytest.mark.parametrize(
    ("new", "past", "window", "causal", "pairs"),
    [
        (3, 0, None, True, 6),  # 1 + 2 + 3 = T·(T+1)/2
        (3, 0, None, False, 9),
        (1, 5, None, True, 6),  # decode: 5 cached + itself
        (5, 0, 2, True, 9),  # 1 + 2 + 2 + 2 + 2
        (2, 3, 4, True, 8),  # min(4, 4) + min(5, 4)
        (1, 100, 8, True, 8),
        (4, 2, None, True, 18),  # 3 + 4 + 5 + 6 (chunk after 2 cached tokens)
    ],
)
def test_attended_pairs(new: int, past: int, window: int | None, causal: bool, pairs: int) -> None:
    assert attended_pairs(bf16(new=new, past=past, causal=causal), window) == pairs


def test_flash_prefill_attention_by_hand() -> None:
    m = tiny()
    (op,) = attention_ops(m, bf16(new=3), None)
    # 1 sequence · 2 heads · 6 pairs · (2·hd for QKᵀ + 2·hd for PV) = 2·6·8
    assert op.flops == 2 * 6 * (2 * 2 + 2 * 2) == 96
    assert op.activation_bytes == (2 * 3 * 4 + 2 * 3 * 2) * 2  # Q and O, new K and V
    assert op.kv_bytes == 0  # empty cache
    # flash never materializes a (T, T) matrix: no term grows with T² in the traffic
    (long,) = attention_ops(m, bf16(new=3000), None)
    assert long.activation_bytes == (2 * 3000 * 4 + 2 * 3000 * 2) * 2


def test_decode_attention_reads_the_cache_gqa_correct() -> None:
    m = tiny()
    (op,) = attention_ops(m, bf16(batch=2, new=1, past=5), None)
    assert op.kv_bytes == 2 * 2 * 5 * (1 * 2) * 2  # K and V · B · C · n_kv·hd · 2 bytes
    assert op.flops == 2 * 2 * 6 * 8  # B · nq · (C + 1) pairs · 4·hd


def test_sliding_window_decode_reads_the_keys_it_attends_to() -> None:
    """Window 8, 100 cached: the new token attends to 8 keys, itself and the 7 cached before
    it, so 7 cached K and V rows are read (tiny: 1 KV head of 2, bf16) and 8 pairs scored."""
    m = tiny()
    p = bf16(new=1, past=100)
    (op,) = attention_ops(m, p, 8)
    assert op.kv_bytes == 2 * 7 * 2 * 2
    assert attended_pairs(p, 8) == 8
    assert op.flops == 2 * 8 * 2 * (2 + 2)  # heads 2 × 8 pairs × (QKᵀ + PV) × head_dim 2


def test_eager_attention_puts_the_score_matrix_through_memory() -> None:
    m = tiny()
    scores, softmax, values = attention_ops(m, bf16(new=3, attention="eager"), None)
    assert [o.name for o in (scores, softmax, values)] == [
        "attn_scores",
        "attn_softmax",
        "attn_values",
    ]
    matrix = 2 * 3 * 3 * 2  # heads · T · T (full, masked after) · 2 bytes
    assert softmax.activation_bytes == 2 * matrix
    assert scores.activation_bytes == 3 * 4 * 2 + 3 * 2 * 2 + matrix  # Q, new K, scores out
    assert scores.flops == values.flops == 2 * 9 * 2 * 2  # full matrix: no causal saving


def test_embedding_is_a_gather_of_rows() -> None:
    m = tiny()
    op = embed_tokens(m, bf16(batch=2, new=3))
    assert op.flops == 0
    assert op.weight_bytes == 6 * 4 * 2  # 6 rows of d, not the whole table
    assert op.weight_params == 10 * 4


def test_lm_head_last_token_two_flops_per_mac_read_even_when_tied() -> None:
    untied = tiny()
    op = lm_head(untied, bf16(batch=2, new=3))
    assert op.flops == 2 * 2 * 4 * 10  # B rows (last position), not B·T; 2 per MAC
    assert op.weight_bytes == 4 * 10 * 2 and op.weight_params == 40
    all_positions = lm_head(untied, bf16(batch=2, new=3, logits="all"))
    assert all_positions.flops == 2 * 6 * 4 * 10
    from dataclasses import replace

    tied = replace(untied, tie_word_embeddings=True)
    op = lm_head(tied, bf16(batch=2))
    assert op.weight_bytes == 4 * 10 * 2  # the shared table is still read
    assert op.weight_params == 0  # but counted once, in embed_tokens


def test_distinct_experts() -> None:
    assert distinct_experts(8, 2, 1) == pytest.approx(2)
    assert distinct_experts(8, 2, 2) == pytest.approx(8 * (1 - 0.75**2))  # 3.5
    assert distinct_experts(8, 2, 10_000) == pytest.approx(8)


def test_moe_flops_use_top_k_weights_use_touched_experts() -> None:
    m = tiny_moe()  # E=8, k=2, expert I=3, one shared expert of 5, d=4
    router, experts, shared = moe_ops(m, bf16(new=1))
    assert router.flops == 2 * 1 * 4 * 8
    assert experts.flops == 2 * 1 * 2 * 3 * 4 * 3 + 5 * 2 * 3  # T·k rows of a gated MLP
    assert experts.weight_bytes == pytest.approx(2 * 3 * 4 * 3 * 2)  # 2 experts touched
    assert experts.weight_params == 8 * 3 * 4 * 3
    assert shared.weight_bytes == 3 * 4 * 5 * 2


def test_layer_order_uses_hugging_face_names() -> None:
    names = [op.name for op in forward_operators(tiny(), bf16())]
    assert names == [
        "embed_tokens",
        "input_layernorm",
        "q_proj",
        "k_proj",
        "v_proj",
        "rotary_emb",
        "attention",
        "o_proj",
        "attn_residual",
        "post_attention_layernorm",
        "gate_proj",
        "up_proj",
        "act_fn",
        "down_proj",
        "mlp_residual",
        "final_norm",
        "lm_head",
    ]
    moe_names = [op.name for op in forward_operators(tiny_moe(), bf16())]
    assert {"router", "experts", "shared_experts", "gate_proj"} <= set(moe_names)


def test_a_workloads_passes_carry_its_element_sizes_and_flags_by_name() -> None:
    w = Workload(
        batch_size=3, prompt_len=50, context_len=70, weight_dtype="int4", weight_group_size=64,
        kv_dtype="fp8", quantize_head=True, attention="eager", logits="all",
        mla_decode="naive", engine="transformers",
    )  # fmt: skip
    int4_g64 = 0.5 + 2 / 64  # 4 bits and a 16-bit scale per 64 weights
    want = dict(
        weight_bytes=int4_g64, small_bytes=2.0, act_bytes=2.0, kv_bytes=1.0,
        head_bytes=int4_g64, attention="eager", causal=True, logits_all=True,
        mla_decode="naive", framework_cache="dynamic",
    )  # fmt: skip
    assert prefill_pass(w) == Pass(batch=3, new=50, past=0, **want)
    assert decode_pass(w) == Pass(batch=3, new=1, past=70, **want)
    fp32 = Workload(weight_dtype="fp32", activation_dtype="fp32")  # 4-byte small parameters
    assert (prefill_pass(fp32).small_bytes, prefill_pass(fp32).head_bytes) == (4.0, 4.0)
