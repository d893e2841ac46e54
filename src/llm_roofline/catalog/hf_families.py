"""Per-family mapping of Hugging Face ``config.json`` fields onto ``Model`` keyword arguments.

One small function per ``model_type``; each reads through ``Fields`` so every error names
the file and the field. Sizes (vocab, hidden, layers, heads, intermediate, experts) are
required: a missing one is an error, never a default borrowed from a reference checkpoint.
The defaults applied are the documented ``transformers`` defaults for structure and flags:
a missing ``num_key_value_heads`` means MHA where the family's config class maps it so
(Llama, Phi, Phi-3); ``head_dim`` falls back to the family's default (hidden/heads,
Qwen3 128, Gemma 256, gpt-oss 64); ``tie_word_embeddings`` to the family's default.
Gemma-3 nests a ``text_config`` written as a diff against ``Gemma3TextConfig``, so every
missing field there takes that class's documented default (``GEMMA3_TEXT_DEFAULTS``).
Variants the ``Model`` cannot express are refused with the reason, never approximated.
Nothing here imports or executes code named by a config (``auto_map`` is ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..inputs.model import MLA, MoE
from .hf_fields import (
    Fields,
    Kwargs,
    biases,
    core,
    even_layer,
    every_layer,
    experts,
    leading_dense_layers,
    windows,
)
from .hf_mpt import mpt

# transformers Gemma3TextConfig.__init__ defaults (the keys a nested text_config may omit).
GEMMA3_TEXT_DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 262_208,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "max_position_embeddings": 131_072,
    "attention_bias": False,
    "sliding_window": 4096,
    "sliding_window_pattern": 6,
    "tie_word_embeddings": True,
}


def _tie(r: Fields, default: bool) -> Kwargs:
    return {"tie_word_embeddings": r.flag("tie_word_embeddings", default)}


def llama(r: Fields) -> Kwargs:
    # LlamaConfig: attention_bias puts a bias on q, k, v and o; mlp_bias on gate, up, down.
    bias = biases(r.flag("attention_bias", False), r.flag("mlp_bias", False))
    kw = core(r, kv_missing_is_mha=True)
    return {**kw, **bias, **_tie(r, False), "intermediate_size": r.size("intermediate_size")}


def mistral(r: Fields) -> Kwargs:
    # MistralConfig: sliding_window defaults to 4096 and, when set, applies to every layer.
    kw = core(r)
    local = windows(r, r.window("sliding_window", 4096), kw["num_layers"], every_layer)
    return {**kw, **local, **_tie(r, False), "intermediate_size": r.size("intermediate_size")}


def mixtral(r: Fields) -> Kwargs:
    # Mixtral: every layer MoE; experts are gated MLPs of intermediate_size; router unbiased.
    kw = core(r)
    expert = r.size("intermediate_size")
    moe = MoE(*experts(r, "num_local_experts", "num_experts_per_tok"), expert)
    local = windows(r, r.window("sliding_window", None), kw["num_layers"], every_layer)
    return {**kw, **local, **_tie(r, False), "intermediate_size": expert, "moe": moe}


def _qwen_windows(r: Fields, layers: int, moe: bool) -> Kwargs:
    # Qwen configs carry sliding_window but use it only when use_sliding_window is true;
    # Qwen2/Qwen3 then slide layers >= max_window_layers (layer_types wins when present).
    if not r.flag("use_sliding_window", False):
        return {}
    window = r.window("sliding_window", 4096)
    if "layer_types" in r.config:
        return windows(r, window, layers, every_layer)
    if moe:  # the Qwen-MoE layer rule has changed across transformers versions
        raise r.error("use_sliding_window", "= true needs an explicit layer_types for Qwen MoE")
    first = r.size("max_window_layers", minimum=0)
    return windows(r, window, layers, lambda i: i >= first)


def qwen2(r: Fields) -> Kwargs:
    # Qwen2: q, k and v carry biases, o does not.
    kw = core(r)
    local = _qwen_windows(r, kw["num_layers"], moe=False)
    return {
        **kw,
        **local,
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "qkv_bias": True,
    }


def qwen2_moe(r: Fields) -> Kwargs:
    # Qwen2-MoE: routed experts plus one shared expert gated by Linear(d, 1); q/k/v biases.
    kw = core(r)
    moe = MoE(
        *experts(r, "num_experts", "num_experts_per_tok"),
        r.size("moe_intermediate_size"),
        num_shared_experts=1,
        shared_expert_intermediate_size=r.size("shared_expert_intermediate_size"),
        first_dense_layers=leading_dense_layers(r, kw["num_layers"]),
        shared_expert_gate=True,
    )
    return {
        **kw,
        **_qwen_windows(r, kw["num_layers"], moe=True),
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "qkv_bias": r.flag("qkv_bias", True),
        "moe": moe,
    }


def qwen3(r: Fields) -> Kwargs:
    # Qwen3: per-head RMSNorm on q and k; Qwen3Config.head_dim defaults to 128.
    kw = core(r, head_dim_default=128)
    return {
        **kw,
        **_qwen_windows(r, kw["num_layers"], moe=False),
        **biases(r.flag("attention_bias", False)),
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "qk_norm": True,
    }


def qwen3_moe(r: Fields) -> Kwargs:
    # Qwen3-MoE: qk-norm, routed experts only (no shared expert), router without bias.
    kw = core(r)
    expert = r.size("moe_intermediate_size")
    first_dense = leading_dense_layers(r, kw["num_layers"])
    total, per_token = experts(r, "num_experts", "num_experts_per_tok")
    moe = MoE(total, per_token, expert, first_dense_layers=first_dense)
    # intermediate_size sizes the dense layers only; without any, it may be absent.
    dense = r.size("intermediate_size") if first_dense or r.has("intermediate_size") else expert
    return {
        **kw,
        **_qwen_windows(r, kw["num_layers"], moe=True),
        **biases(r.flag("attention_bias", False)),
        **_tie(r, False),
        "intermediate_size": dense,
        "qk_norm": True,
        "moe": moe,
    }


def gemma(r: Fields) -> Kwargs:
    # Gemma: GeGLU MLP, head_dim defaults to 256, embeddings tied by default.
    kw = core(r, head_dim_default=256)
    bias = biases(r.flag("attention_bias", False))
    return {**kw, **bias, **_tie(r, True), "intermediate_size": r.size("intermediate_size")}


def gemma2(r: Fields) -> Kwargs:
    # Gemma-2: four norms per layer; even layers (0, 2, ...) use the 4096 sliding window.
    kw = gemma(r)
    local = windows(r, r.window("sliding_window", 4096), kw["num_layers"], even_layer)
    return {**kw, **local, "norms_per_layer": 4}


def gemma3_text(r: Fields) -> Kwargs:
    # Gemma-3: four norms and qk-norm per layer; 5 local : 1 global (every 6th layer global).
    r = Fields({**GEMMA3_TEXT_DEFAULTS, **r.config}, r.origin, r.prefix)
    kw = gemma(r)
    pattern = r.size("sliding_window_pattern")
    window = r.window("sliding_window", 4096)
    local = windows(r, window, kw["num_layers"], lambda i: (i + 1) % pattern != 0)
    return {**kw, **local, "norms_per_layer": 4, "qk_norm": True}


def gemma3(r: Fields) -> Kwargs:
    # Gemma3ForConditionalGeneration: the language model lives in text_config; the vision
    # tower and projector are not modelled (text-only costs and parameter counts).
    text = r.config.get("text_config")
    if not isinstance(text, dict):
        raise r.error("text_config", f"must be an object, got {text!r}")
    tie = {"tie_word_embeddings": r.flag("tie_word_embeddings", True)}
    inner = Fields({"model_type": "gemma3_text", **tie, **text}, r.origin, "text_config.")
    return gemma3_text(inner)


def phi(r: Fields) -> Kwargs:
    # Phi-1/1.5/2: one LayerNorm feeds attention and MLP in parallel; every linear layer
    # (q, k, v, dense, fc1, fc2, lm_head) has a bias; plain GELU MLP; lm_head not tied.
    r.refuse("qk_layernorm", False, "per-head LayerNorm on q and k is not modelled")
    kw = core(r, kv_missing_is_mha=True, head_dim_key=None)
    return {
        **kw,
        **biases(True, True),
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "gated_mlp": False,
        "norm": "layernorm",
        "norms_per_layer": 1,
        "parallel_attention": True,
        "lm_head_bias": True,
    }


def phi3(r: Fields) -> Kwargs:
    # Phi-3/Phi-4: fused qkv_proj and gate_up_proj, no biases; a window (if set) on every layer.
    kw = core(r, kv_missing_is_mha=True)
    local = windows(r, r.window("sliding_window", None), kw["num_layers"], every_layer)
    return {**kw, **local, **_tie(r, False), "intermediate_size": r.size("intermediate_size")}


def gpt2(r: Fields) -> Kwargs:
    # GPT-2: learned positions (n_positions rows), LayerNorm, biases everywhere, plain GELU
    # MLP of n_inner (null: 4·n_embd), lm_head tied to wte; MHA.
    r.refuse("add_cross_attention", False, "cross-attention (encoder-decoder use) is not modelled")
    names = ("n_embd", "n_layer", "n_head")
    kw = core(r, kv_heads=r.size("n_head"), head_dim_key=None, names=names)
    positions = r.size("n_positions")
    return {
        **kw,
        **biases(True, True),
        **_tie(r, True),
        "intermediate_size": r.size("n_inner", 4 * kw["hidden_size"]),
        "gated_mlp": False,
        "norm": "layernorm",
        "position_embeddings": positions,
        "max_position_embeddings": positions,
    }


def opt(r: Fields) -> Kwargs:
    # OPT: learned positions with 2 offset rows (max_position_embeddings + 2), ReLU MLP of
    # ffn_dim, LayerNorm, biases (enable_bias), lm_head tied. Variants refused, not guessed.
    d = r.size("hidden_size")
    if r.size("word_embed_proj_dim", d) != d:
        raise r.error(
            "word_embed_proj_dim",
            f"= {r.config['word_embed_proj_dim']} differs from hidden_size ({d}): "
            "OPT's project_in/project_out (opt-350m) is not modelled",
        )
    why = "post-LayerNorm OPT (opt-350m, no final LayerNorm) is not modelled"
    r.refuse("do_layer_norm_before", True, why)
    r.refuse("_remove_final_layer_norm", False, "OPT without its final LayerNorm is not modelled")
    r.refuse("layer_norm_elementwise_affine", True, "LayerNorm without parameters is not modelled")
    kw = core(r, kv_heads=r.size("num_attention_heads"), head_dim_key=None)
    bias = r.flag("enable_bias", True)
    return {
        **kw,
        **biases(bias, bias),
        **_tie(r, True),
        "intermediate_size": r.size("ffn_dim"),
        "gated_mlp": False,
        "norm": "layernorm",
        "position_embeddings": r.size("max_position_embeddings") + 2,
    }


def falcon(r: Fields) -> Kwargs:
    # Falcon: fused query_key_value of (heads + 2·kv)·head_dim outputs; KV heads are
    # num_kv_heads (new_decoder_architecture), else 1 (multi_query), else all heads.
    # Norms: new architecture ln_attn + ln_mlp (num_ln_in_parallel_attn, default 2); else
    # input_layernorm, plus post_attention_layernorm only without parallel_attn.
    new, parallel = r.flag("new_decoder_architecture", False), r.flag("parallel_attn", True)
    heads = r.size("num_attention_heads")
    if new:
        kv, norms = r.size("num_kv_heads", heads), r.size("num_ln_in_parallel_attn", 2)
    else:
        kv, norms = (1 if r.flag("multi_query", True) else heads), (1 if parallel else 2)
    if heads % kv:
        raise r.error("num_kv_heads", f"({kv}) does not divide num_attention_heads ({heads})")
    kw = core(r, kv_heads=kv, head_dim_key=None)
    bias = r.flag("bias", False)
    return {
        **kw,
        **biases(bias, bias),
        **_tie(r, True),
        "intermediate_size": r.size("ffn_hidden_size", 4 * kw["hidden_size"]),
        "gated_mlp": False,
        "norm": "layernorm",
        "norms_per_layer": norms,
        "parallel_attention": parallel or new,
    }


def gpt_neox(r: Fields) -> Kwargs:
    # GPT-NeoX/Pythia: two LayerNorms per layer even with use_parallel_residual; fused
    # query_key_value and dense with attention_bias; MLP biases always; embed_out untied.
    kw = core(r, kv_heads=r.size("num_attention_heads"), head_dim_key=None)
    return {
        **kw,
        **biases(r.flag("attention_bias", True), True),
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "gated_mlp": False,
        "norm": "layernorm",
        "parallel_attention": r.flag("use_parallel_residual", True),
    }


def _deepseek_moe(r: Fields) -> MoE | None:
    # MoE on every layer from first_k_dense_replace on; n_shared_experts shared experts of
    # moe_intermediate_size each; noaux_tc routing adds e_score_correction_bias (E/layer).
    if not r.has("n_routed_experts"):
        return None
    r.refuse("moe_layer_freq", 1, "MoE on every n-th layer is not modelled")
    default_topk = "noaux_tc" if r.config.get("model_type") == "deepseek_v3" else "greedy"
    return MoE(
        *experts(r, "n_routed_experts", "num_experts_per_tok"),
        r.size("moe_intermediate_size"),
        num_shared_experts=r.size("n_shared_experts", 0, minimum=0),
        shared_expert_intermediate_size=r.size("moe_intermediate_size"),
        first_dense_layers=r.size("first_k_dense_replace", 0, minimum=0),
        router_score_bias=r.text("topk_method", default_topk) == "noaux_tc",
    )


def deepseek(r: Fields) -> Kwargs:
    # DeepSeek-V2/V3: MLA attention (q_lora_rank null: a plain q_proj). The multi-token
    # prediction layer (num_nextn_predict_layers) is not part of the model and not counted.
    r.refuse("attention_bias", False, "biases in MLA projections are not modelled")
    if "q_lora_rank" not in r.config:
        raise r.error("q_lora_rank", "is missing (write null for a plain q_proj)")
    mla = MLA(
        kv_lora_rank=r.size("kv_lora_rank"),
        qk_nope_head_dim=r.size("qk_nope_head_dim"),
        qk_rope_head_dim=r.size("qk_rope_head_dim"),
        v_head_dim=r.size("v_head_dim"),
        q_lora_rank=r.size("q_lora_rank") if r.has("q_lora_rank") else None,
    )
    # KV heads and head_dim are those of the decompressed attention: every head has its own
    # (nope + rope)-wide query and key; the cache holds the latent (see MLA).
    kw = core(r, kv_heads=r.size("num_attention_heads"), head_dim=mla.qk_head_dim)
    return {
        **kw,
        **_tie(r, False),
        "intermediate_size": r.size("intermediate_size"),
        "mla": mla,
        "moe": _deepseek_moe(r),
    }


def gpt_oss(r: Fields) -> Kwargs:
    # gpt-oss: biases on q, k, v, o; one sink logit per head; router Linear(d, E) with bias;
    # gated experts with biases; sliding_window (128) on layer_types' sliding layers
    # (GptOssConfig default: even layers).
    kw = core(r, head_dim_default=64)
    key = "num_experts_per_tok" if r.has("num_experts_per_tok") else "experts_per_token"
    total, per_token = experts(r, "num_local_experts", key)
    if r.has("experts_per_token") and r.size("experts_per_token") != per_token:
        raise r.error(
            "experts_per_token",
            f"({r.config['experts_per_token']}) disagrees with num_experts_per_tok ({per_token})",
        )
    expert = r.size("intermediate_size")
    moe = MoE(total, per_token, expert, router_bias=True, expert_bias=True)
    return {
        **kw,
        **biases(r.flag("attention_bias", True)),
        **windows(r, r.window("sliding_window", 128), kw["num_layers"], even_layer),
        **_tie(r, False),
        "intermediate_size": expert,
        "attention_sinks": True,
        "moe": moe,
    }


FAMILIES: Mapping[str, Callable[[Fields], Kwargs]] = {
    "llama": llama,
    "mistral": mistral,
    "mixtral": mixtral,
    "qwen2": qwen2,
    "qwen2_moe": qwen2_moe,
    "qwen3": qwen3,
    "qwen3_moe": qwen3_moe,
    "gemma": gemma,
    "gemma2": gemma2,
    "gemma3": gemma3,
    "gemma3_text": gemma3_text,
    "phi": phi,
    "phi3": phi3,
    "gpt2": gpt2,
    "opt": opt,
    "falcon": falcon,
    "gpt_neox": gpt_neox,
    "deepseek_v2": deepseek,
    "deepseek_v3": deepseek,
    "gpt_oss": gpt_oss,
    "mpt": mpt,  # hf_mpt.py: ALiBi, nested attn_config, no_bias
}
