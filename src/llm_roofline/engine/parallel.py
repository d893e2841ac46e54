"""Tensor, pipeline and expert parallelism: what one device runs, and what it sends.

Layout (the conventions of vLLM / Megatron-LM; docs/PARALLELISM.md has the formulas):
- Pipeline degree p: the layers are cut into p contiguous stages (as even as possible, the
  first stages take the remainder); embed_tokens lives on the first stage, final_norm and
  lm_head on the last. A stage sends its (T, d) output to the next one (``pp_send``).
- Tensor degree t: inside a stage, attention heads, KV heads, MLP and expert intermediate
  columns and the vocabulary are split t ways (q/k/v, gate/up, q_b/kv_b column-parallel;
  o_proj, down_proj row-parallel). KV heads are replicated when t exceeds them (t must then be
  a multiple of them); MLA's latent (kv_a_proj_with_mqa, q_a_proj and their cache) is
  replicated on every device, as vLLM does. Norms, residuals, the router and row-parallel
  biases are replicated. Two ring all-reduces of the (T, d) activations per layer
  (``attn_all_reduce``, ``mlp_all_reduce``), one after the vocabulary-parallel embedding
  (``embed_all_reduce``) and an all-gather of the logits (``logits_all_gather``).
- Expert degree e (MoE): the routed experts are split e ways, whole (E/e experts per device).
  e is 1 or a multiple of t: a stage then has e devices, attention and the dense parts run in
  e/t data-parallel replicas of t-way tensor parallelism (DeepSeek's "DP attention" when t=1),
  each replica holding ⌈B/(e/t)⌉ of the sequences. Every device dispatches its share of the
  tokens (T/e) to the experts' owners and gets the results back: two all-to-alls
  (``moe_dispatch``, ``moe_combine``). Routing is assumed uniform (as in moe.distinct_experts).

Communication operators carry the bytes one device *sends* (``OpCost.comm_bytes``), timed over
``Hardware.interconnect_bytes_per_s``, which the catalog stores per direction (each device
sends and receives at once). Ring all-reduce of M bytes over t devices: 2·(t−1)/t·M sent.
Their memory traffic and reduction FLOPs are ignored (small next to the link time).
"""

from __future__ import annotations

from dataclasses import replace

from ..inputs.layout import Layout as Parallelism
from ..inputs.model import LayerGroup, Model
from . import layers, moe, ops
from .ops import COMMUNICATION, OpCost, Pass


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def shard_model(m: Model, par: Parallelism) -> Model:
    """The slice of the model one device holds, as a Model (its operators are then per device).

    Heads nq/t; KV heads n_kv/t (1 when replicated; MLA: irrelevant, the latent is
    replicated); intermediate sizes and the vocabulary ⌈·/t⌉ (engines pad); routed experts
    keep their width when split whole across devices (e > 1), else ⌈I_e/t⌉.
    """
    t = par.tensor
    if t == 1:
        return m
    heads = m.num_attention_heads // t
    kv_heads = heads if m.mla is not None else max(1, m.num_key_value_heads // t)
    moe = m.moe
    if moe is not None:
        moe = replace(
            moe,
            expert_intermediate_size=moe.expert_intermediate_size
            if par.expert > 1
            else _ceil_div(moe.expert_intermediate_size, t),
            shared_expert_intermediate_size=_ceil_div(moe.shared_expert_intermediate_size, t),
        )
    return replace(
        m,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        intermediate_size=_ceil_div(m.intermediate_size, t),
        vocab_size=_ceil_div(m.vocab_size, t),
        moe=moe,
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


def stage_groups(m: Model, start: int, stop: int) -> tuple[LayerGroup, ...]:
    """Layers [start, stop) grouped by identical cost, first-appearance order (as Model's)."""
    counts: dict[tuple[bool, int | None], int] = {}
    for layer in range(start, stop):
        key = (m.layer_is_moe(layer), m.layer_window(layer))
        counts[key] = counts.get(key, 0) + 1
    return tuple(LayerGroup(n, moe, window) for (moe, window), n in counts.items())


# ---- communication operators ----------------------------------------------------------


def communication(name: str, sent_bytes: float) -> OpCost:
    """Bytes one device sends over the interconnect; no FLOPs, no memory traffic counted."""
    return OpCost(name, COMMUNICATION, flops=0.0, comm_bytes=sent_bytes)


def all_reduce(name: str, message_bytes: float, devices: int) -> OpCost:
    """Ring all-reduce of M bytes over n devices: each sends 2·(n−1)/n·M (reduce-scatter +
    all-gather). Source: Patarasuk & Yuan 2009; NCCL's ring "bus bandwidth" factor."""
    return communication(name, 2 * (devices - 1) / devices * message_bytes)


def all_gather(name: str, message_bytes: float, devices: int) -> OpCost:
    """Ring all-gather of an M-byte result (M/n per device): each sends (n−1)/n·M."""
    return communication(name, (devices - 1) / devices * message_bytes)


def all_to_all(name: str, tokens: float, m: Model, p: Pass, par: Parallelism) -> OpCost:
    """MoE dispatch (or combine): a device's ``tokens`` each go to k experts, of which a
    fraction (e−1)/e live elsewhere: tokens·k·(e−1)/e·d activations sent (uniform routing)."""
    assert m.moe is not None
    e, k = par.expert, m.moe.experts_per_token
    return communication(name, tokens * k * (e - 1) / e * m.hidden_size * p.act_bytes)


def pp_send(m: Model, p: Pass) -> OpCost:
    """A stage sends its (T, d) hidden states to the next stage: T·d activations, point to
    point. (vLLM also sends the residual stream, which would double this.)"""
    return communication("pp_send", p.tokens * m.hidden_size * p.act_bytes)


def expert_parallel_experts(m: Model, p_sys: Pass, par: Parallelism) -> OpCost:
    """One device's routed experts under e-way expert parallelism: 1/e of the whole stage's.

    Of the stage's T tokens' T·k routed copies, T·k/e land on each device (uniform
    routing); its E/e experts are each touched with probability 1 − (1 − k/E)^T. So FLOPs,
    weight traffic, parameters and activations are those of ops.moe_ops over all T tokens,
    divided by e (the combine counts the T/e tokens each device is home to).
    """
    experts = moe.moe_ops(m, p_sys)[1]  # moe_ops: router, routed experts, [shared experts]
    e = par.expert
    return experts._replace(
        flops=experts.flops / e,
        weight_bytes=experts.weight_bytes / e,
        activation_bytes=experts.activation_bytes / e,
        weight_params=experts.weight_params // e,
        param_bytes=experts.param_bytes / e,
    )


# ---- one device's operators ---------------------------------------------------------------


def replica_pass(p_sys: Pass, par: Parallelism) -> Pass:
    """The pass one attention replica runs: ⌈B / replicas⌉ of the stage's sequences."""
    return replace(p_sys, batch=_ceil_div(p_sys.batch, par.attention_replicas))


def device_layer(m: Model, par: Parallelism, p_sys: Pass, group: LayerGroup) -> list[OpCost]:
    """One layer on one device: layers.layer_operators of the shard, with the communication
    spliced in after the attention block and after the MLP/MoE block, and the routed experts
    replaced by this device's share under expert parallelism."""
    shard, p = shard_model(m, par), replica_pass(p_sys, par)
    layer = layers.layer_operators(shard, p, group)
    if par.tensor == 1 and par.expert == 1:
        return layer
    # layer_operators: input_layernorm, attention block, ..., MLP block,
    # [post_feedforward_layernorm], mlp_residual (see layers.py).
    attn_end = 1 + len(layers.attention_block(shard, p, group.window))
    mlp_end = len(layer) - (2 if shard.norms_per_layer == 4 else 1)
    mlp_start = mlp_end - len(moe.moe_ops(shard, p) if group.moe else ops.mlp_ops(shard, p))
    mlp = layer[mlp_start:mlp_end]
    if group.moe and par.expert > 1:
        home = p_sys.tokens / par.stage_devices  # tokens each device dispatches
        mlp = [
            mlp[0],
            all_to_all("moe_dispatch", home, m, p, par),
            expert_parallel_experts(m, p_sys, par),
            all_to_all("moe_combine", home, m, p, par),
            *mlp[2:],
        ]
    message = p.tokens * m.hidden_size * p.act_bytes  # (T, d) of the replica
    t = par.tensor
    attn_comm = [all_reduce("attn_all_reduce", message, t)] if t > 1 else []
    mlp_comm = [all_reduce("mlp_all_reduce", message, t)] if t > 1 else []
    return [
        *layer[:attn_end],
        *attn_comm,
        *layer[attn_end:mlp_start],
        *mlp,
        *mlp_comm,
        *layer[mlp_end:],
    ]


def stage_operators(
    m: Model, par: Parallelism, p_sys: Pass, stage: int, *, logits: bool = True
) -> list[OpCost]:
    """Every operator one device of ``stage`` runs for one (micro-)batch ``p_sys`` of the stage.

    With t = p = e = 1 this is exactly layers.forward_operators (tested). ``logits=False``
    leaves out the lm_head (a prefill chunk that is not the prompt's last).
    """
    shard, p = shard_model(m, par), replica_pass(p_sys, par)
    t, last = par.tensor, par.pipeline - 1
    message = p.tokens * m.hidden_size * p.act_bytes
    out: list[OpCost] = []
    if stage == 0:
        out.append(ops.embed_tokens(shard, p))
        if t > 1:
            out.append(all_reduce("embed_all_reduce", message, t))
    start, stop = stage_bounds(m.num_layers, par.pipeline)[stage]
    for group in stage_groups(m, start, stop):
        out += [op.times(group.count) for op in device_layer(m, par, p_sys, group)]
    if stage < last:
        out.append(pp_send(m, p))
        return out
    out.append(ops.norm("final_norm", shard, p))
    if logits:
        out.append(ops.lm_head(shard, p))
        if t > 1:
            logit_bytes = ops.logit_tokens(p) * m.vocab_size * p.act_bytes
            out.append(all_gather("logits_all_gather", logit_bytes, t))
    return out


def stage_kv_cache_bytes(
    m: Model, par: Parallelism, stage: int, batch: int, tokens: int, kv_bytes: float
) -> float:
    """KV cache one device of ``stage`` holds: its replica's sequences × its layers × its KV
    heads (MLA: the whole latent, replicated), sliding layers keeping only their window."""
    shard = shard_model(m, par)
    per_layer = shard.kv_elements_per_token_per_layer * kv_bytes
    start, stop = stage_bounds(m.num_layers, par.pipeline)[stage]
    total = 0.0
    for group in stage_groups(m, start, stop):
        kept = tokens if group.window is None else min(tokens, group.window)
        total += group.count * kept * per_layer
    return _ceil_div(batch, par.attention_replicas) * total


def micro_batch_sizes(batch: int, micro_batches: int) -> list[tuple[int, int]]:
    """(size, how many) of the micro-batches, largest first: B split as evenly as possible
    into min(m, B) parts."""
    parts = min(micro_batches, batch)
    q, rem = divmod(batch, parts)
    sizes = [(q + 1, rem), (q, parts - rem)]
    return [(size, n) for size, n in sizes if n > 0]
