"""A decoder layer as named blocks, and one device's whole forward pass.

A layer is, in execution order (Hugging Face module names inside each block):

  attention_norm      input_layernorm
  attention           q_proj, k_proj, v_proj, [qk_norm], [rotary_emb], attention (eager:
                      attn_scores, attn_softmax, attn_values), o_proj   — or MLA's operators
  attention_residual  [post_attention_layernorm (Gemma's sandwich norms)], attn_residual
  mlp_norm            post_attention_layernorm (Gemma-2/3: pre_feedforward_layernorm)
  mlp                 gate_proj, up_proj, act_fn, down_proj — or router, experts, [shared_experts]
  mlp_residual        [post_feedforward_layernorm], mlp_residual
  framework           kv_cache_copy, framework_layer — only under the transformers engines

Around the layers: embed_tokens first, final_norm and lm_head last. Layers of identical
cost are built once and carry a count. Sharding (engine/sharding.py) replaces whole blocks
and attaches communication at block edges; nothing here or there counts list positions or
reads operator names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..inputs.model import LayerGroup, Model
from . import framework, mla, moe, ops
from .attention import attention_ops
from .ops import OpCost, Pass

ATTENTION_BLOCK = "attention"
MLP_BLOCK = "mlp"


@dataclass(frozen=True, slots=True)
class Block:
    name: str
    ops: tuple[OpCost, ...]


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
    if m.rotary:  # learned absolute positions and ALiBi have no RoPE
        block.append(ops.rotary_emb(m, p))
    block += attention_ops(m, p, window)
    block.append(ops.linear("o_proj", p, t, m.q_dim, d, bias=m.o_bias))
    return block


def mlp_block(m: Model, p: Pass, routed: bool) -> list[OpCost]:
    return moe.moe_ops(m, p) if routed else ops.mlp_ops(m, p)


def layer_blocks(m: Model, p: Pass, group: LayerGroup) -> list[Block]:
    """One decoder layer of ``m`` over pass ``p``, as named blocks in execution order."""
    sandwich = m.norms_per_layer == 4  # Gemma-2/3: norms before and after each sublayer
    after_attention = [ops.norm("post_attention_layernorm", m, p)] if sandwich else []
    if sandwich:
        before_mlp = [ops.norm("pre_feedforward_layernorm", m, p)]
    elif m.norms_per_layer >= 2:
        before_mlp = [ops.norm("post_attention_layernorm", m, p)]
    else:  # Falcon-7B, Phi-2: one norm feeds attention and MLP in parallel
        before_mlp = []
    after_mlp = [ops.norm("post_feedforward_layernorm", m, p)] if sandwich else []
    extra = framework.layer_ops(m, p, group.window)  # transformers' own (framework.py)
    return [
        Block("attention_norm", (ops.norm("input_layernorm", m, p),)),
        Block(ATTENTION_BLOCK, tuple(attention_block(m, p, group.window))),
        Block("attention_residual", (*after_attention, ops.residual("attn_residual", m, p))),
        Block("mlp_norm", tuple(before_mlp)),
        Block(MLP_BLOCK, tuple(mlp_block(m, p, group.moe))),
        Block("mlp_residual", (*after_mlp, ops.residual("mlp_residual", m, p))),
    ] + ([Block("framework", extra)] if extra else [])


def flatten(blocks: list[Block], count: int) -> list[OpCost]:
    """The blocks' operators in order, each standing for ``count`` identical layers."""
    if count == 1:
        return [op for block in blocks for op in block.ops]
    return [op.times(op.instances * count) for block in blocks for op in block.ops]
