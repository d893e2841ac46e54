"""Attention: which (query, key) pairs are computed, and what one layer's attention costs.

One costing serves standard multi-head attention (GQA/MQA, sliding windows, sinks) and
MLA's two forms (engine/mla.py): callers give the head count, the score and value widths
and the bytes each tensor moves. Conventions:
- FLOPs: QKᵀ and PV, 2·score_dim and 2·value_dim per (query, key) pair per head; softmax
  not counted under flash (on chip), 5 FLOPs per score under eager. ALiBi's bias add
  (one per pair per head) is counted, inside the kernel, with no traffic of its own.
- flash: traffic is Q, the new K and V in, O out, plus each sequence's cached K and V once
  per layer (re-reads of K/V tiles per query block are assumed to hit on-chip memory).
- eager: a (T, C+T) score matrix per head is computed for every position (the causal mask
  is applied after, no work saved), written, read and written by softmax, read by PV.
Shapes of the records: (queries, keys, heads, batch, head_dim, kv_bytes_per_element),
keys = past + new (the cache's element size picks the 8-bit-cache decode kernels).
"""

from __future__ import annotations

from ..inputs import xp
from ..inputs.model import Model
from ..inputs.xp import Number
from .ops import ATTENTION, ELEMENTWISE, OpCost, Pass


def attended_pairs(p: Pass, window: int | None) -> Number:
    """(query, key) pairs per sequence per head: the score entries actually computed.

    Query i (1-based among ``new``) sees past + i keys when causal (past + new if not);
    a window caps it at ``window``. Causal prefill from an empty cache: T·(T+1)/2.
    """
    if not p.causal:
        keys = p.past + p.new
        return xp.to_float(p.new * (keys if window is None else xp.minimum(keys, window)))
    if window is None:
        return xp.to_float(p.new * p.past + p.new * (p.new + 1) // 2)
    # Windowed causal: sum over i of min(past + i, W), split where past + i reaches W.
    uncapped = xp.maximum(0, xp.minimum(p.new, window - p.past))  # queries with past + i <= W
    capped = p.new - uncapped
    return xp.to_float(uncapped * p.past + uncapped * (uncapped + 1) // 2 + capped * window)


def eager_pairs(p: Pass) -> Number:
    """Eager attention materializes every entry of its (T, C+T) score matrix, masks after."""
    return xp.to_float(p.new * (p.past + p.new))


def cached_keys_read(p: Pass, window: int | None) -> Number:
    """Cached tokens whose K and V one sequence's attention reads: C, or with a window W
    the W − 1 before the first new token (causal: that query's W keys are those and
    itself), so decode reads exactly the keys ``attended_pairs`` counts."""
    if window is None:
        return p.past
    return xp.minimum(p.past, window - 1 if p.causal else window)


def attention_cost(
    p: Pass,
    window: int | None,
    *,
    heads: int,
    score_dim: int,
    value_dim: int,
    q_bytes: Number,
    o_bytes: Number,
    fresh_kv_bytes: Number,
    cache_bytes: Number,
    sinks: int = 0,
    alibi: bool = False,
) -> list[OpCost]:
    """One layer's attention over the batch: ``attention`` (flash) or eager's three records.

    ``fresh_kv_bytes``: the K and V read as activations (the new tokens'; MLA's naive form
    also the up-projected cached keys); ``cache_bytes``: what is read from the KV cache.
    ``sinks``: learned sink logits (gpt-oss: one per head), read as small parameters.
    """
    flash = p.attention == "flash"
    pairs = attended_pairs(p, window) if flash else eager_pairs(p)
    per_pair = 2 * score_dim + 2 * value_dim + (1 if alibi else 0)
    flops = p.batch * heads * pairs * per_pair
    shape = (p.new, p.past + p.new, heads, p.batch, score_dim, p.kv_bytes)
    sink_bytes = sinks * p.small_bytes
    if flash:
        activations = q_bytes + o_bytes + fresh_kv_bytes
        return [
            OpCost(
                "attention",
                ATTENTION,
                flops=flops,
                weight_bytes=sink_bytes,
                activation_bytes=activations,
                kv_bytes=cache_bytes,
                weight_params=sinks,
                param_bytes=sink_bytes,
                shape=shape,
                family="attention",
                live_bytes=activations,
            )
        ]
    scores = p.batch * heads * pairs * p.act_bytes  # one (T, C+T) matrix per head, in memory
    score_flops = p.batch * heads * pairs * (2 * score_dim + (1 if alibi else 0))
    value_flops = p.batch * heads * pairs * 2 * value_dim
    qk_bytes = q_bytes + fresh_kv_bytes / 2 + scores
    pv_bytes = scores + fresh_kv_bytes / 2 + o_bytes
    return [
        OpCost(
            "attn_scores",
            ATTENTION,
            flops=score_flops,
            activation_bytes=qk_bytes,
            kv_bytes=cache_bytes / 2,
            shape=shape,
            family="attention",
            live_bytes=qk_bytes,
        ),
        OpCost(
            "attn_softmax",
            ELEMENTWISE,
            flops=5 * p.batch * heads * pairs,
            weight_bytes=sink_bytes,
            activation_bytes=2 * scores,
            weight_params=sinks,
            param_bytes=sink_bytes,
            family="softmax",
            live_bytes=2 * scores,
        ),
        OpCost(
            "attn_values",
            ATTENTION,
            flops=value_flops,
            activation_bytes=pv_bytes,
            kv_bytes=cache_bytes / 2,
            shape=shape,
            family="attention",
            live_bytes=pv_bytes,
        ),
    ]


def attention_ops(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """Scaled dot-product attention of one layer over the batch, GQA-correct.

    Reads Q (T, nq·hd), writes O (T, nq·hd), reads the new tokens' K and V (T, 2·n_kv·hd)
    and each sequence's C cached tokens' K and V (B·C·2·n_kv·hd in the KV dtype).
    """
    hd = m.head_dim
    return attention_cost(
        p,
        window,
        heads=m.num_attention_heads,
        score_dim=hd,
        value_dim=hd,
        q_bytes=p.tokens * m.q_dim * p.act_bytes,
        o_bytes=p.tokens * m.q_dim * p.act_bytes,
        fresh_kv_bytes=2 * p.tokens * m.kv_dim * p.act_bytes,
        cache_bytes=2 * p.batch * cached_keys_read(p, window) * m.kv_dim * p.kv_bytes,
        sinks=m.num_attention_heads if m.attention_sinks else 0,
        alibi=m.alibi,
    )
