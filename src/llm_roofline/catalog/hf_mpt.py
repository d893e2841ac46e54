"""The ``mpt`` family (MosaicML MPT-7B, MPT-30B and llm-foundry exports): config.json -> Model.

MPT's config keeps its own names (``d_model``, ``n_heads``, ``n_layers``, ``expansion_ratio``,
``max_seq_len``, ``no_bias``) and a nested ``attn_config`` (and, in newer llm-foundry exports,
``ffn_config``). The mapping follows MosaicML's own ``modeling_mpt.py``, the code a Hub
config's ``auto_map`` names (it is read here, never imported):

- ALiBi (``attn_config.alibi``) replaces positions: no rotary embedding and no learned
  table; ``learned_pos_emb`` is ignored with ALiBi, as MosaicML's code ignores it.
- ``no_bias: true`` removes every bias, the LayerNorms' included (a scale of d each).
- A fused ``Wqkv`` of d·(d + 2·kv·head_dim), ``out_proj``, a plain GELU MLP of
  ``expansion_ratio``·d (``mptglu``: gated), two norms per layer, the final ``norm_f``,
  and the lm_head tied to ``wte``.

Missing fields take the ``transformers`` defaults (``MptConfig``, ``MptAttentionConfig``):
``no_bias`` true, ``attn_config.alibi`` true, ``attn_type`` multihead, ``expansion_ratio`` 4,
``max_seq_len`` 2048, ``norm_type`` low_precision_layernorm. ``transformers`` writes the nested
``attn_config`` as a diff against its defaults (``{"model_type": ""}`` when nothing differs);
MosaicML's own classes default ``alibi`` and ``no_bias`` to false but always write both keys.
Costs of ``clip_qkv`` (a clamp over q, k, v), dropout and ``logit_scale`` are not modelled;
variants that change the shape or the attention (``qk_ln``, prefix-LM masks, sliding
windows, MoE FFNs) are refused with the reason.
"""

from __future__ import annotations

from ..inputs import checks
from .hf_fields import Fields, Kwargs, biases, core

_ATTN_TYPES = ("multihead_attention", "multiquery_attention", "grouped_query_attention")
_LAYERNORMS = ("low_precision_layernorm", "layernorm")
_RMSNORMS = ("rmsnorm", "low_precision_rmsnorm", "triton_rmsnorm")
_FFN_TYPES = ("mptmlp", "mptglu")
MAX_SEQ_LEN_DEFAULT = 2048  # MptConfig and MosaicML's MPTConfig agree


def _kv_heads(attn: Fields, heads: int) -> int:
    """KV heads by attention type: MHA all, MQA one, GQA ``kv_n_heads`` (must divide)."""
    kind = attn.one_of("attn_type", _ATTN_TYPES, "multihead_attention")
    if kind == "multiquery_attention":
        return 1
    if kind == "multihead_attention":
        return heads
    if not attn.has("kv_n_heads"):
        raise attn.error("kv_n_heads", "is missing (required with grouped_query_attention)")
    kv = attn.size("kv_n_heads")
    if heads % kv:
        raise attn.error("kv_n_heads", f"({kv}) does not divide n_heads ({heads})")
    return kv


def _positions(r: Fields, attn: Fields) -> Kwargs:
    """ALiBi, RoPE (``attn_config.rope``) or a learned table of ``max_seq_len`` rows."""
    alibi, rope = attn.flag("alibi", True), attn.flag("rope", False)
    if alibi and rope:
        raise attn.error("rope", "= True with alibi = True: a model uses one of them")
    if alibi:
        return {"alibi": True}
    if rope:
        return {}
    if not r.flag("learned_pos_emb", True):
        raise r.error("learned_pos_emb", "= False without alibi or rope: no positions at all")
    return {"position_embeddings": r.size("max_seq_len", MAX_SEQ_LEN_DEFAULT)}


def _refuse_attention_variants(attn: Fields) -> None:
    attn.refuse("qk_ln", False, "LayerNorm over the whole q and k projections is not modelled")
    attn.refuse("qk_gn", False, "per-head norms of q and k are not modelled for MPT")
    attn.refuse("prefix_lm", False, "prefix-LM (bidirectional prefix) masking is not modelled")
    window = attn.config.get("sliding_window_size")
    if window is not None and window != -1:
        raise attn.error("sliding_window_size", f"= {window!r} is not supported for MPT")


def _intermediate(r: Fields, ffn: Fields, d: int) -> int:
    """``ffn_config.ffn_hidden_size``, else int(d · expansion_ratio) as MosaicML computes it."""
    if ffn.has("ffn_hidden_size"):
        return ffn.size("ffn_hidden_size")
    ratio = r.config.get("expansion_ratio", 4)
    try:
        checks.positive("expansion_ratio", ratio)
    except (TypeError, ValueError):
        raise r.error("expansion_ratio", f"must be a number > 0, got {ratio!r}") from None
    width = int(d * ratio)
    if width < 1:
        raise r.error("expansion_ratio", f"= {ratio!r} gives an MLP width below 1 for d_model {d}")
    return width


def _norm(r: Fields, bias: bool) -> Kwargs:
    kind = r.one_of("norm_type", _LAYERNORMS + _RMSNORMS, "low_precision_layernorm")
    if kind in _RMSNORMS:
        return {"norm": "rmsnorm"}
    return {"norm": "layernorm", "layernorm_bias": bias}


def mpt(r: Fields) -> Kwargs:
    # MPT: ALiBi (or RoPE / learned positions), fused Wqkv, plain GELU MLP, LayerNorm,
    # no_bias removing every bias (norms included), lm_head tied to wte.
    attn, ffn = r.nested("attn_config"), r.nested("ffn_config")
    _refuse_attention_variants(attn)
    ffn_type = ffn.one_of("ffn_type", _FFN_TYPES, "mptmlp")
    bias = not r.flag("no_bias", True)
    heads = r.size("n_heads")
    names = ("d_model", "n_layers", "n_heads")
    kw = core(r, kv_heads=_kv_heads(attn, heads), head_dim_key=None, names=names)
    return {
        **kw,
        **biases(bias, bias),
        **_norm(r, bias),
        **_positions(r, attn),
        "max_position_embeddings": r.size("max_seq_len", MAX_SEQ_LEN_DEFAULT),
        "tie_word_embeddings": r.flag("tie_word_embeddings", True),
        "intermediate_size": _intermediate(r, ffn, kw["hidden_size"]),
        "gated_mlp": ffn_type == "mptglu",
    }
