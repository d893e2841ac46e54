"""Shared hand-built models and devices (independent of the preset catalogs)."""

from __future__ import annotations

import pytest

from llm_roofline import Hardware, Model, MoE


def llama2_7b() -> Model:
    # meta-llama/Llama-2-7b-hf config.json: MHA, untied lm_head, SwiGLU 11008.
    return Model("llama-2-7b", 32000, 4096, 32, 32, 32, 128, 11008, max_position_embeddings=4096)


def llama3_8b() -> Model:
    return Model("llama-3-8b", 128256, 4096, 32, 32, 8, 128, 14336, max_position_embeddings=8192)


def mistral_7b() -> Model:
    return Model(
        "mistral-7b-v0.1",
        32000,
        4096,
        32,
        32,
        8,
        128,
        14336,
        sliding_window=4096,
        sliding_window_layers=tuple(range(32)),
    )


def mixtral_8x7b() -> Model:
    return Model(
        "mixtral-8x7b",
        32000,
        4096,
        32,
        32,
        8,
        128,
        14336,
        moe=MoE(num_experts=8, experts_per_token=2, expert_intermediate_size=14336),
    )


def qwen25_7b() -> Model:
    return Model("qwen2.5-7b", 152064, 3584, 28, 28, 4, 128, 18944, qkv_bias=True)


def gpt2() -> Model:
    # GPT-2 small: LayerNorm with bias, biases everywhere, learned positions, tied head.
    return Model(
        "gpt2",
        50257,
        768,
        12,
        12,
        12,
        64,
        3072,
        gated_mlp=False,
        norm="layernorm",
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        tie_word_embeddings=True,
        position_embeddings=1024,
    )


def phi2() -> Model:
    # One norm per layer, parallel attention/MLP, untied head with a bias.
    return Model(
        "phi-2",
        51200,
        2560,
        32,
        32,
        32,
        80,
        10240,
        gated_mlp=False,
        norm="layernorm",
        norms_per_layer=1,
        parallel_attention=True,
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        lm_head_bias=True,
    )


def gemma2_like() -> Model:
    # Gemma-2-9B shape: 4 norms per layer, tied, alternating 4096-token windows.
    return Model(
        "gemma-2-9b",
        256000,
        3584,
        42,
        16,
        8,
        256,
        14336,
        norms_per_layer=4,
        tie_word_embeddings=True,
        sliding_window=4096,
        sliding_window_layers=tuple(range(0, 42, 2)),
    )


def tiny() -> Model:
    """Small enough to check by hand: V=10, d=4, 2 layers, 2 heads of 2, 1 KV head, I=6."""
    return Model("tiny", 10, 4, 2, 2, 1, 2, 6)


def tiny_moe() -> Model:
    return Model(
        "tiny-moe",
        10,
        4,
        3,
        2,
        1,
        2,
        6,
        moe=MoE(
            num_experts=8,
            experts_per_token=2,
            expert_intermediate_size=3,
            num_shared_experts=1,
            shared_expert_intermediate_size=5,
            first_dense_layers=1,
        ),
    )


def a100() -> Hardware:
    return Hardware(
        "A100 SXM 80GB",
        {"fp32": 19.5e12, "bf16": 312e12, "fp16": 312e12, "int8": 624e12},
        2.039e12,
        80e9,
        interconnect_bytes_per_s=300e9,
    )


@pytest.fixture
def device() -> Hardware:
    return a100()


ALL_MODELS = [
    llama2_7b,
    llama3_8b,
    mistral_7b,
    mixtral_8x7b,
    qwen25_7b,
    gpt2,
    phi2,
    gemma2_like,
    tiny,
    tiny_moe,
]


def assert_usage_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0] and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


# A 2-layer Llama-shaped Hugging Face config.json (the web app's upload tests). Its
# parameters by hand: embeddings and lm_head 2·1000·64; per layer q,o 2·64·64, k,v 2·64·32
# (2 KV heads × head_dim 16), MLP 3·64·256, two norms 2·64; the final norm 64.
TINY_HF_CONFIG = {
    "model_type": "llama",
    "_name_or_path": "tiny-llama",
    "vocab_size": 1000,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 256,
    "tie_word_embeddings": False,
    "auto_map": {"AutoModel": "evil.Model"},  # code a config names is never imported
}
TINY_HF_PARAMETERS = 2 * 1000 * 64 + 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 256 + 2 * 64) + 64
