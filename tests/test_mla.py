"""Multi-head latent attention: operators by hand, parameter counts, the cache, end to end.

Tiny MLA model: d=8, 2 layers, nq=2 heads, q_lora_rank r_q=4, kv_lora_rank r=3,
qk_nope 2, qk_rope 1, v_head 2 (qk head 3); bf16 (2 bytes) everywhere.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import a100
from llm_roofline import MLA, Model, MoE, Workload, analyze
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.blocks import attention_block
from llm_roofline.engine.mla import absorbed
from llm_roofline.engine.ops import OpCost, Pass
from llm_roofline.engine.sharding import forward_operators


def tiny_mla(q_lora_rank: int | None = 4) -> Model:
    mla = MLA(
        kv_lora_rank=3,
        qk_nope_head_dim=2,
        qk_rope_head_dim=1,
        v_head_dim=2,
        q_lora_rank=q_lora_rank,
    )
    return Model("tiny-mla", 10, 8, 2, 2, 2, 3, 6, mla=mla)


def deepseek_v3() -> Model:
    # deepseek-ai/DeepSeek-V3 config.json, by hand (independent of the catalog).
    return Model(
        "deepseek-v3", 129280, 7168, 61, 128, 128, 192, 18432,
        max_position_embeddings=163840,
        moe=MoE(num_experts=256, experts_per_token=8, expert_intermediate_size=2048,
                num_shared_experts=1, shared_expert_intermediate_size=2048,
                first_dense_layers=3, router_score_bias=True),
        mla=MLA(kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
                q_lora_rank=1536),
    )  # fmt: skip


def deepseek_v2_lite() -> Model:
    return Model(
        "deepseek-v2-lite", 102400, 2048, 27, 16, 16, 192, 10944,
        moe=MoE(num_experts=64, experts_per_token=6, expert_intermediate_size=1408,
                num_shared_experts=2, shared_expert_intermediate_size=1408, first_dense_layers=1),
        mla=MLA(kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128),
    )  # fmt: skip


def bf16(batch: int = 1, new: int = 3, past: int = 0, form: str = "absorbed", **kw: object) -> Pass:
    return Pass.of(Workload(batch_size=batch, mla_decode=form, **kw), new=new, past=past)  # type: ignore[arg-type]


def by_name(ops: list[OpCost]) -> dict[str, OpCost]:
    return {op.name: op for op in ops}


def test_prefill_operators_by_hand() -> None:
    ops = by_name(attention_block(tiny_mla(), bf16(new=3), None))
    assert list(ops) == [
        "q_a_proj", "q_a_layernorm", "q_b_proj", "kv_a_proj_with_mqa", "kv_a_layernorm",
        "kv_b_proj", "rotary_emb", "attention", "o_proj",
    ]  # fmt: skip
    q_a, q_norm, q_b = ops["q_a_proj"], ops["q_a_layernorm"], ops["q_b_proj"]
    assert (q_a.flops, q_a.weight_bytes, q_a.activation_bytes) == (
        2 * 3 * 8 * 4,
        32 * 2,
        (24 + 12) * 2,
    )
    assert (q_norm.flops, q_norm.weight_params, q_norm.activation_bytes) == (4 * 12, 4, 24 * 2)
    assert (q_b.flops, q_b.weight_params, q_b.activation_bytes) == (
        2 * 3 * 4 * 6,
        24,
        (12 + 18) * 2,
    )
    kv_a = ops["kv_a_proj_with_mqa"]  # (3, 8) @ (8, r + dr = 4), output to the cache
    assert (kv_a.flops, kv_a.activation_bytes, kv_a.kv_bytes) == (192, 24 * 2, 3 * 4 * 2)
    assert (ops["kv_a_layernorm"].flops, ops["kv_a_layernorm"].weight_params) == (4 * 9, 3)
    kv_b = ops["kv_b_proj"]  # (3, r=3) @ (3, nq·(dn+dv) = 8)
    assert (kv_b.flops, kv_b.weight_params, kv_b.kv_bytes) == (2 * 3 * 3 * 8, 24, 0)
    assert kv_b.activation_bytes == (3 * 3 + 3 * 8) * 2
    assert ops["rotary_emb"].flops == 3 * 3 * (2 + 1) * 1  # q_pe (3, 2·1) and k_pe (3, 1)
    att = ops["attention"]  # 6 causal pairs, 2 heads, 2·(3 + 2) FLOPs per pair per head
    assert att.flops == 1 * 2 * 6 * 2 * (3 + 2) == 120
    # Q (3·2·3), O (3·2·2), per-head k_nope and v of 3 keys (3·2·4), the rope key (3·1).
    assert att.activation_bytes == (18 + 12 + 24 + 3) * 2
    assert att.kv_bytes == 0
    o = ops["o_proj"]
    assert (o.flops, o.weight_params) == (2 * 3 * 4 * 8, 32)


def test_absorbed_decode_by_hand() -> None:
    # B=2 sequences, 1 new token each, 5 cached: T = 2, 6 pairs per sequence per head.
    ops = by_name(attention_block(tiny_mla(), bf16(batch=2, new=1, past=5), None))
    assert "kv_b_proj" not in ops
    uk, uv, att = ops["kv_b_proj_k"], ops["kv_b_proj_v"], ops["attention"]
    assert (uk.flops, uk.weight_params, uk.weight_bytes) == (2 * 2 * 2 * 2 * 3, 12, 24)
    assert uk.activation_bytes == 2 * 2 * (2 + 3) * 2
    assert (uv.flops, uv.weight_params) == (2 * 2 * 2 * 3 * 2, 12)
    # scores over r + dr = 4, values over r = 3: 2·(4 + 3) per pair per head.
    assert att.flops == 2 * 2 * 6 * 2 * (4 + 3) == 336
    assert att.activation_bytes == (2 * 2 * 4 + 2 * 2 * 3 + 2 * 4) * 2  # Q, O, new latent
    assert att.kv_bytes == 2 * 5 * 4 * 2  # each sequence's cached 4 values × 5 tokens
    assert ops["kv_a_proj_with_mqa"].kv_bytes == 2 * 4 * 2


def test_naive_decode_up_projects_every_cached_token() -> None:
    ops = by_name(attention_block(tiny_mla(), bf16(batch=2, new=1, past=5, form="naive"), None))
    kv_b, att = ops["kv_b_proj"], ops["attention"]
    rows = 2 * 5 + 2  # cached + new keys
    assert kv_b.flops == 2 * rows * 3 * 8 == 576
    assert kv_b.kv_bytes == 2 * 5 * 3 * 2  # cached latents read from the cache
    assert kv_b.activation_bytes == (2 * 3 + rows * 8) * 2
    assert att.flops == 2 * 2 * 6 * 2 * (3 + 2)
    assert att.kv_bytes == 2 * 5 * 1 * 2  # the cached rope keys
    # Both forms read the same cache bytes: the latent and the rope key of every token.
    absorbed_ops = by_name(attention_block(tiny_mla(), bf16(batch=2, new=1, past=5), None))
    assert kv_b.kv_bytes + att.kv_bytes == absorbed_ops["attention"].kv_bytes


def test_prefill_is_naive_whatever_the_setting() -> None:
    p = bf16(new=4, past=0, form="absorbed")
    assert not absorbed(p)
    assert "kv_b_proj" in by_name(attention_block(tiny_mla(), p, None))
    assert absorbed(bf16(new=1, past=1))
    assert not absorbed(bf16(new=1, past=1, form="naive"))


def test_plain_q_proj_without_q_lora() -> None:
    ops = by_name(attention_block(tiny_mla(q_lora_rank=None), bf16(new=3), None))
    assert "q_a_proj" not in ops
    assert ops["q_proj"].flops == 2 * 3 * 8 * 6


@pytest.mark.parametrize("form", ["absorbed", "naive"])
@pytest.mark.parametrize("past", [0, 7])
@pytest.mark.parametrize(
    ("make", "published"),
    [(tiny_mla, None), (deepseek_v3, 671_026_419_200), (deepseek_v2_lite, 15_706_484_224)],
)
def test_operator_weights_sum_to_the_parameter_count(
    make: type, published: int | None, form: str, past: int
) -> None:
    m: Model = make()
    ops = forward_operators(m, bf16(new=1 if past else 5, past=past, form=form))
    total = sum(op.weight_params * op.instances for op in ops)
    assert total == m.parameter_count
    if published is not None:
        assert total == published


def test_catalog_models_match_the_hand_built_ones() -> None:
    assert get_model("deepseek-v3").parameter_count == deepseek_v3().parameter_count
    assert get_model("deepseek-v2-lite").parameter_count == deepseek_v2_lite().parameter_count


def test_deepseek_v3_kv_cache_is_576_values_per_layer() -> None:
    m = deepseek_v3()
    assert m.kv_elements_per_token_per_layer == 512 + 64 == 576
    assert m.kv_bytes_per_token(2) == 61 * 576 * 2 == 70_272
    # A decode step reads every cached token's latent once per layer (absorbed).
    decode = forward_operators(m, bf16(batch=2, new=1, past=1000))
    cache_reads = sum(op.kv_bytes * op.instances for op in decode if op.name == "attention")
    assert cache_reads == 2 * 1000 * 70_272


def test_absorbed_decode_beats_naive_at_long_context() -> None:
    hw, m = a100(), deepseek_v3()
    w = Workload(batch_size=8, prompt_len=4096, output_len=0, weight_dtype="fp8")
    naive = analyze(m, hw, replace(w, mla_decode="naive")).decode
    absorbed_ = analyze(m, hw, w).decode
    assert absorbed_.flops < naive.flops
    assert absorbed_.bytes < naive.bytes
    assert absorbed_.time_s < naive.time_s


@pytest.mark.parametrize("attention", ["flash", "eager"])
def test_deepseek_models_analyze_end_to_end(attention: str) -> None:
    for m in (deepseek_v3(), deepseek_v2_lite()):
        report = analyze(m, a100(), Workload(batch_size=2, prompt_len=256, attention=attention))
        for phase in report.phases.values():
            assert phase.flops > 0 and phase.time_s > 0
            assert phase.flops == pytest.approx(sum(r.flops for r in phase.operators))
        assert report.decode.operator("experts").count == (58 if m.name == "deepseek-v3" else 26)
        assert report.metrics.memory.kv_cache_bytes == 2 * (256 + 256) * m.kv_bytes_per_token(2)


def test_eager_mla_splits_attention_with_the_same_flops_per_entry() -> None:
    eager = by_name(
        attention_block(tiny_mla(), bf16(batch=2, new=1, past=5, attention="eager"), None)
    )
    # eager computes every entry of the (1, 6) score row: 6 pairs, as flash for one query.
    assert eager["attn_scores"].flops == 2 * 2 * 6 * 2 * 4
    assert eager["attn_values"].flops == 2 * 2 * 6 * 2 * 3
    assert eager["attn_scores"].kv_bytes + eager["attn_values"].kv_bytes == 2 * 5 * 4 * 2


def test_mla_decode_is_validated() -> None:
    with pytest.raises(ValueError, match="mla_decode"):
        Workload(mla_decode="compressed")
    assert Pass.of(Workload(mla_decode="naive"), new=1, past=1).mla_decode == "naive"
