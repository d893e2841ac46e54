"""The ordered operator list of one forward pass (Hugging Face module names).

Per layer: input_layernorm, q_proj, k_proj, v_proj, [qk_norm], rotary_emb, attention
(eager: attn_scores, attn_softmax, attn_values), o_proj, [post-attention norms],
attn_residual, post_attention_layernorm, gate_proj, up_proj, act_fn, down_proj (MoE
layers: router, experts, shared_experts), [post_feedforward_layernorm], mlp_residual.
Around the layers: embed_tokens first, final_norm and lm_head last. Layers of identical
cost are built once and carry a count.
"""

from __future__ import annotations

import functools

from ..inputs.model import LayerGroup, Model
from . import mla, moe, ops
from .ops import OpCost, Pass


def attention_block(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """Projections, rotary, attention and output projection of one layer."""
    if m.mla is not None:  # DeepSeek-V2/V3: multi-head latent attention
        return mla.attention_block(m, p, window)
    t, d, bias = p.tokens, m.hidden_size, m.qkv_bias
    block = [
        ops.linear("q_proj", p, t, d, m.q_dim, bias=bias),
        ops.linear("k_proj", p, t, d, m.kv_dim, bias=bias, writes_kv=True),
        ops.linear("v_proj", p, t, d, m.kv_dim, bias=bias, writes_kv=True),
    ]
    if m.qk_norm:
        block.append(ops.qk_norm(m, p))
    if not m.position_embeddings:  # learned absolute positions (GPT-2, OPT) have no RoPE
        block.append(ops.rotary_emb(m, p))
    block += ops.attention_ops(m, p, window)
    block.append(ops.linear("o_proj", p, t, m.q_dim, d, bias=m.o_bias))
    return block


def layer_operators(m: Model, p: Pass, group: LayerGroup) -> list[OpCost]:
    """One decoder layer, in execution order."""
    layer = [ops.norm("input_layernorm", m, p), *attention_block(m, p, group.window)]
    if m.norms_per_layer == 4:  # Gemma-2/3 sandwich norms around attention and MLP
        layer.append(ops.norm("post_attention_layernorm", m, p))
    layer.append(ops.residual("attn_residual", m, p))
    if m.norms_per_layer == 4:
        layer.append(ops.norm("pre_feedforward_layernorm", m, p))
    elif m.norms_per_layer >= 2:
        layer.append(ops.norm("post_attention_layernorm", m, p))
    layer += moe.moe_ops(m, p) if group.moe else ops.mlp_ops(m, p)
    if m.norms_per_layer == 4:
        layer.append(ops.norm("post_feedforward_layernorm", m, p))
    layer.append(ops.residual("mlp_residual", m, p))
    return layer


@functools.lru_cache(maxsize=256)
def forward_operators(m: Model, p: Pass) -> tuple[OpCost, ...]:
    """The whole pass: embed_tokens, every layer group (with its count), final_norm, lm_head.

    Pure, so memoized: an analysis asks for the same pass more than once (the decode step
    doubles as a critical-batch and a request sample), and findings and sweeps re-analyse
    with one field changed.
    """
    pass_ops = [ops.embed_tokens(m, p)]
    for group in m.layer_groups:
        pass_ops += [op.times(group.count) for op in layer_operators(m, p, group)]
    pass_ops += [ops.norm("final_norm", m, p), ops.lm_head(m, p)]
    return tuple(pass_ops)
