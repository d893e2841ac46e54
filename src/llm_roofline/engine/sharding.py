"""What one device runs, and what it sends, under a ``Layout`` (one device: the layout of ones).

Conventions (vLLM / Megatron-LM; docs/PARALLELISM.md has the formulas):
- Pipeline degree p: the layers are cut into p contiguous stages (as even as possible, the
  first stages take the remainder); embed_tokens lives on the first stage, final_norm and
  lm_head on the last. A stage sends its (T, d) output to the next one (``pp_send``).
- Tensor degree t: inside a stage, attention heads, KV heads, MLP and expert intermediate
  columns and the vocabulary are split t ways (q/k/v, gate/up, q_b/kv_b column-parallel;
  o_proj, down_proj row-parallel). KV heads are replicated when t exceeds them (t must then
  be a multiple of them); MLA's latent (kv_a_proj_with_mqa, q_a_proj and their cache) is
  replicated on every device, as vLLM does. Norms, residuals, the router and row-parallel
  biases are replicated. An all-reduce of the (T, d) activations closes the attention block
  and the MLP block (``attn_all_reduce``, ``mlp_all_reduce``); one follows the
  vocabulary-parallel embedding (``embed_all_reduce``); the logits are all-gathered.
- Expert degree e (MoE): the routed experts are split e ways, whole (E/e per device). e is
  1 or a multiple of t: a stage then has e devices, attention and the dense parts run in e/t
  data-parallel replicas of t-way tensor parallelism (DeepSeek's "DP attention" when t=1),
  each replica holding ⌈B/(e/t)⌉ of the sequences. The MLP block of a MoE layer becomes:
  router, ``moe_dispatch`` (all-to-all), this device's share of the routed experts (of all
  the stage's tokens), ``moe_combine``, [shared experts]. Routing is assumed uniform.
- Data degree: whole replicas of this layout, each with its own batch; nothing here.

Communication operators carry the bytes one device *sends* under the ring algorithm
(``OpCost.comm_bytes``), their ``family`` and ``shape`` (devices, message bytes), from which
timing prices the algorithm actually used (timing.py). Ring all-reduce of M bytes over n
devices: 2·(n−1)/n·M sent. Their memory traffic and reduction FLOPs are ignored.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from ..inputs import xp
from ..inputs.layout import Layout
from ..inputs.model import LayerGroup, Model
from ..inputs.xp import Number
from . import framework, moe, ops
from .blocks import ATTENTION_BLOCK, MLP_BLOCK, Block, flatten, layer_blocks
from .ops import COMMUNICATION, OpCost, Pass

ONE_DEVICE = Layout()


def shard_model(m: Model, layout: Layout) -> Model:
    """The slice of the model one device holds, as a Model (its operators are then per device).

    Heads nq/t; KV heads n_kv/t (1 when replicated; MLA: irrelevant, the latent is
    replicated); intermediate sizes and the vocabulary ⌈·/t⌉ (engines pad); routed experts
    keep their width when split whole across devices (e > 1), else ⌈I_e/t⌉.
    """
    t = layout.tensor
    if t == 1:
        return m
    return _shard(m, t, layout.expert > 1)


@functools.lru_cache(maxsize=64)
def _shard(m: Model, t: int, experts_whole: bool) -> Model:
    heads = m.num_attention_heads // t
    kv_heads = heads if m.mla is not None else max(1, m.num_key_value_heads // t)
    routed = m.moe
    if routed is not None:
        routed = replace(
            routed,
            expert_intermediate_size=routed.expert_intermediate_size
            if experts_whole
            else xp.ceil_div(routed.expert_intermediate_size, t),
            shared_expert_intermediate_size=xp.ceil_div(routed.shared_expert_intermediate_size, t),
        )
    return replace(
        m,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        intermediate_size=xp.ceil_div(m.intermediate_size, t),
        vocab_size=xp.ceil_div(m.vocab_size, t),
        moe=routed,
    )


def stage_bounds(num_layers: int, pipeline: int) -> list[tuple[int, int]]:
    """[start, stop) of each stage's layers: ⌊L/p⌋ each, the first L mod p stages one more."""
    base, extra = divmod(num_layers, pipeline)
    bounds, start = [], 0
    for s in range(pipeline):
        stop = start + base + (1 if s < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def stage_groups(m: Model, layout: Layout, stage: int) -> tuple[LayerGroup, ...]:
    """The layer groups (identical cost, with counts) of one pipeline stage."""
    if layout.pipeline == 1:
        return m.layer_groups
    return _stage_groups(m, layout.pipeline, stage)


@functools.lru_cache(maxsize=1024)
def _stage_groups(m: Model, pipeline: int, stage: int) -> tuple[LayerGroup, ...]:
    start, stop = stage_bounds(m.num_layers, pipeline)[stage]
    return m.layer_groups_between(start, stop)


def stage_key(m: Model, layout: Layout, stage: int) -> tuple[object, ...]:
    """What decides a stage's operators: its layer groups, and whether it is the first
    (embedding) or the last (final norm, lm_head). Stages with equal keys run identical
    operators (the middle stages of an even split): array evaluations price them once."""
    return (stage_groups(m, layout, stage), stage == 0, stage == layout.pipeline - 1)


# ---- communication operators ----------------------------------------------------------


def communication(
    name: str, family: str, sent_bytes: Number, devices: int, message: Number
) -> OpCost:
    """Bytes one device sends over the interconnect; no FLOPs, no memory traffic counted."""
    return OpCost(
        name,
        COMMUNICATION,
        flops=0.0,
        comm_bytes=sent_bytes,
        shape=(devices, message),
        family=family,
    )


def all_reduce(name: str, message_bytes: Number, devices: int) -> OpCost:
    """Ring all-reduce of M bytes over n devices: each sends 2·(n−1)/n·M (reduce-scatter +
    all-gather). Source: Patarasuk & Yuan 2009; NCCL's ring "bus bandwidth" factor."""
    sent = 2 * (devices - 1) / devices * message_bytes
    return communication(name, "all_reduce", sent, devices, message_bytes)


def all_gather(name: str, message_bytes: Number, devices: int) -> OpCost:
    """Ring all-gather of an M-byte result (M/n per device): each sends (n−1)/n·M."""
    sent = (devices - 1) / devices * message_bytes
    return communication(name, "all_gather", sent, devices, message_bytes)


def all_to_all(name: str, tokens: Number, m: Model, p: Pass, layout: Layout) -> OpCost:
    """MoE dispatch (or combine): a device's ``tokens`` each go to k experts, of which a
    fraction (e−1)/e live elsewhere: tokens·k·(e−1)/e·d activations sent (uniform routing)."""
    assert m.moe is not None
    e, k = layout.expert, m.moe.experts_per_token
    sent = tokens * k * (e - 1) / e * m.hidden_size * p.act_bytes
    return communication(name, "all_to_all", sent, e, sent)


def pp_send(m: Model, p: Pass) -> OpCost:
    """A stage sends its (T, d) hidden states to the next stage: T·d activations, point to
    point. (vLLM also sends the residual stream, which would double this.)"""
    message = p.tokens * m.hidden_size * p.act_bytes
    return communication("pp_send", "send", message, 2, message)


# ---- one device's operators ---------------------------------------------------------------


def replica_pass(p_stage: Pass, layout: Layout) -> Pass:
    """The pass one attention replica runs: ⌈B / replicas⌉ of the stage's sequences."""
    if layout.attention_replicas == 1:
        return p_stage
    return p_stage._replace(batch=xp.ceil_div(p_stage.batch, layout.attention_replicas))


def device_layer(m: Model, layout: Layout, p_stage: Pass, group: LayerGroup) -> list[Block]:
    """One layer on one device: the shard's blocks, the MoE block replaced by its expert-
    parallel form, and an all-reduce closing the attention and MLP blocks when t > 1."""
    shard, p = shard_model(m, layout), replica_pass(p_stage, layout)
    blocks = layer_blocks(shard, p, group)
    if layout.replica_devices == 1:
        return blocks
    message = p.tokens * m.hidden_size * p.act_bytes  # (T, d) of the replica
    out = []
    for block in blocks:
        block_ops = block.ops
        if block.name == MLP_BLOCK and group.moe and layout.expert > 1:
            block_ops = expert_parallel_block(m, shard, layout, p_stage, p)
        if layout.tensor > 1 and block.name in (ATTENTION_BLOCK, MLP_BLOCK):
            prefix = "attn" if block.name == ATTENTION_BLOCK else "mlp"
            block_ops = (*block_ops, all_reduce(f"{prefix}_all_reduce", message, layout.tensor))
        out.append(Block(block.name, block_ops))
    return out


def expert_parallel_block(
    m: Model, shard: Model, layout: Layout, p_stage: Pass, p: Pass
) -> tuple[OpCost, ...]:
    """router, moe_dispatch, this device's share of the routed experts, moe_combine,
    [shared experts]: each device dispatches its T/e home tokens and gets them back."""
    assert m.moe is not None
    home = p_stage.tokens / layout.stage_devices  # tokens each device dispatches
    share = moe.expert_share(moe.routed_experts(m, p_stage), layout.expert)
    shared = (moe.shared_experts(shard, p),) if m.moe.num_shared_experts else ()
    return (
        moe.router(shard, p),
        all_to_all("moe_dispatch", home, m, p, layout),
        share,
        all_to_all("moe_combine", home, m, p, layout),
        *shared,
    )


def stage_operators(
    m: Model, layout: Layout, p_stage: Pass, stage: int = 0, *, logits: bool = True
) -> tuple[OpCost, ...]:
    """Every operator one device of ``stage`` runs for one (micro-)batch of the stage.

    ``logits=False`` leaves out the lm_head (a prefill chunk that is not the prompt's last).
    Memoized for one configuration (plain numbers); arrays are evaluated each time.
    """
    if p_stage.is_scalar:
        return _stage_operators(m, layout, p_stage, stage, logits)
    return _stage_operators.__wrapped__(m, layout, p_stage, stage, logits)


@functools.lru_cache(maxsize=512)
def _stage_operators(
    m: Model, layout: Layout, p_stage: Pass, stage: int, logits: bool
) -> tuple[OpCost, ...]:
    shard, p = shard_model(m, layout), replica_pass(p_stage, layout)
    t, last = layout.tensor, layout.pipeline - 1
    message = p.tokens * m.hidden_size * p.act_bytes
    out: list[OpCost] = list(framework.pass_ops(p))  # transformers' per-pass time, if any
    if stage == 0:
        out.append(ops.embed_tokens(shard, p))
        if t > 1:
            out.append(all_reduce("embed_all_reduce", message, t))
    for group in stage_groups(m, layout, stage):
        out += flatten(device_layer(m, layout, p_stage, group), group.count)
    if stage < last:
        out.append(pp_send(m, p))
        return tuple(out)
    out.append(ops.norm("final_norm", shard, p))
    if logits:
        out.append(ops.lm_head(shard, p))
        if t > 1:
            logit_bytes = ops.logit_tokens(p) * m.vocab_size * p.act_bytes
            out.append(all_gather("logits_all_gather", logit_bytes, t))
    return tuple(out)


def forward_operators(m: Model, p: Pass) -> tuple[OpCost, ...]:
    """The whole pass on one device: embed_tokens, every layer group, final_norm, lm_head."""
    return stage_operators(m, ONE_DEVICE, p)


def stage_kv_cache_bytes(
    m: Model, layout: Layout, stage: int, batch: Number, tokens: Number, kv_bytes: Number
) -> Number:
    """KV cache one device of ``stage`` holds: its replica's sequences × its layers × its KV
    heads (MLA: the whole latent, replicated), sliding layers keeping only their window."""
    shard = shard_model(m, layout)
    per_layer = shard.kv_elements_per_token_per_layer * kv_bytes
    total: Number = 0.0
    for group in stage_groups(m, layout, stage):
        kept = tokens if group.window is None else xp.minimum(tokens, group.window)
        total = total + group.count * kept * per_layer
    replicas = layout.attention_replicas
    return (batch if replicas == 1 else xp.ceil_div(batch, replicas)) * total


def micro_batch_split(
    batch: Number, micro_batches: int
) -> tuple[tuple[Number, Number], tuple[Number, Number]]:
    """((q + 1, r), (q, parts − r)): B split as evenly as possible into parts = min(m, B)
    micro-batches, r of q + 1 sequences and the rest of q (numbers or arrays; a count may
    be 0)."""
    parts = xp.minimum(micro_batches, batch)
    q, rem = batch // parts, batch % parts
    return (q + 1, rem), (q, parts - rem)


def micro_batch_sizes(batch: int, micro_batches: int) -> list[tuple[int, int]]:
    """(size, how many) of the micro-batches, largest first, those that occur."""
    if micro_batches == 1:
        return [(batch, 1)]  # what the split gives for one micro-batch (tested)
    return [(size, n) for size, n in micro_batch_split(batch, micro_batches) if n > 0]
