"""Multi-head latent attention (DeepSeek-V2/V3): the operators of one layer's attention.

Symbols: d hidden size, nq query heads, r_q = q_lora_rank, r = kv_lora_rank, dn =
qk_nope_head_dim, dr = qk_rope_head_dim, dv = v_head_dim, T = B·new tokens, C cached tokens
per sequence. The cache holds, per token and layer, the normalized latent c_kv (r values)
and the shared rotary key k_pe (dr values): DeepSeek-V3, 512 + 64 = 576 values.

Operators (Hugging Face ``DeepseekV3Attention`` module names):
  q_a_proj (T, d) @ (d, r_q), q_a_layernorm over (T, r_q), q_b_proj (T, r_q) @ (r_q, nq·(dn+dr))
  — or one q_proj (T, d) @ (d, nq·(dn+dr)) when q_lora_rank is None (DeepSeek-V2-Lite);
  kv_a_proj_with_mqa (T, d) @ (d, r + dr), its output written to the cache (KV dtype);
  kv_a_layernorm over (T, r); then one of two forms; o_proj (T, nq·dv) @ (nq·dv, d).

Two forms (``Pass.mla_decode``; ``Workload.mla_decode``):
- naive: kv_b_proj (r, nq·(dn+dv)) up-projects the latent of every key the pass attends to
  (the C cached ones read from the cache, and the new ones) to per-head k_nope and v; then
  ordinary multi-head attention with (dn+dr)-wide scores and dv-wide values.
- absorbed: W_UK (the k half of kv_b_proj) is applied to the query, W_UV (the v half) to the
  attention output (kv_b_proj_k, kv_b_proj_v); attention runs directly on the cached latent
  (one shared "head" of r + dr values per token, read once per sequence per layer) with nq
  query heads of r + dr for scores and r for values: the cache is read, never up-projected.
A pass from an empty cache (prefill) always uses the naive form: there both forms do the
same projection FLOPs, and naive attention is (dn+dr+dv)/(2·r+dr) as costly (DeepSeek-V3:
320/1088). Passes over a cache (decode, speculative verification, prefill chunks) use
``p.mla_decode``; scheduling.py runs prefill chunks naive, as vLLM and SGLang do.
"""

from __future__ import annotations

from ..inputs import xp
from ..inputs.model import MLA, Model
from . import ops
from .attention import attention_cost, cached_keys_read
from .ops import MATMUL, OpCost, Pass


def attention_block(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """The MLA attention of one layer, in execution order (see the module docstring)."""
    a = _mla(m)
    t, d, nq = p.tokens, m.hidden_size, m.num_attention_heads
    if a.q_lora_rank is None:
        block = [ops.linear("q_proj", p, t, d, nq * a.qk_head_dim)]
    else:
        r_q = a.q_lora_rank
        block = [
            ops.linear("q_a_proj", p, t, d, r_q),
            ops.latent_norm("q_a_layernorm", p, r_q),
            ops.linear("q_b_proj", p, t, r_q, nq * a.qk_head_dim),
        ]
    block += [
        ops.linear(
            "kv_a_proj_with_mqa", p, t, d, a.kv_lora_rank + a.qk_rope_head_dim, writes_kv=True
        ),
        ops.latent_norm("kv_a_layernorm", p, a.kv_lora_rank),
    ]
    # RoPE on q_pe (T, nq·dr) and the shared k_pe (T, dr).
    rope = ops.rotary(p, (nq + 1) * a.qk_rope_head_dim)
    if absorbed(p):
        block += [
            absorb("kv_b_proj_k", p, nq, a.qk_nope_head_dim, a.kv_lora_rank),
            rope,
            *absorbed_attention(m, p, window),
            absorb("kv_b_proj_v", p, nq, a.kv_lora_rank, a.v_head_dim),
        ]
    else:
        block += [kv_b_proj(m, p, window), rope, *naive_attention(m, p, window)]
    block.append(ops.linear("o_proj", p, t, nq * a.v_head_dim, d))
    return block


def absorbed(p: Pass) -> bool:
    """The absorbed form runs on passes over a cache when asked; prefill is always naive.

    Raises ValueError for an array of passes some of which have a cache and some not: the
    two forms have different operators and cannot be evaluated as one array.
    """
    if p.mla_decode != "absorbed":
        return False
    if xp.is_scalar(p.past):
        return bool(p.past > 0)
    with_cache = p.past > 0
    if with_cache.all():
        return True
    if not with_cache.any():
        return False
    raise ValueError("MLA passes with and without a cache (past = 0) cannot share one array")


def _mla(m: Model) -> MLA:
    if m.mla is None:
        raise ValueError(f"model {m.name!r} has no multi-head latent attention (mla is None)")
    return m.mla


def absorb(name: str, p: Pass, heads: int, d_in: int, d_out: int) -> OpCost:
    """Per-head (T, d_in) @ (d_in, d_out), nq heads batched: 2·T·nq·d_in·d_out FLOPs.

    kv_b_proj_k: q_nope (T, nq, dn) @ W_UK (nq, dn, r) -> the query in latent space;
    kv_b_proj_v: o_latent (T, nq, r) @ W_UV (nq, r, dv) -> per-head values. Together they
    own kv_b_proj's r·nq·(dn+dv) weights, read once per pass. Shape is one head's GEMM.
    """
    t = p.tokens
    weight_bytes = heads * d_in * d_out * p.weight_bytes
    activations = t * heads * (d_in + d_out) * p.act_bytes
    return OpCost(
        name,
        MATMUL,
        flops=2 * t * heads * d_in * d_out,
        weight_bytes=weight_bytes,
        activation_bytes=activations,
        weight_params=heads * d_in * d_out,
        param_bytes=weight_bytes,
        shape=(t, d_in, d_out),
        family="linear",
        live_bytes=activations,
    )


def kv_b_proj(m: Model, p: Pass, window: int | None) -> OpCost:
    """Naive form: (B·(C+new), r) @ (r, nq·(dn+dv)) over every key the pass attends to.

    Cached latents are read from the cache (B·C·r in the KV dtype, C capped by a window),
    the new tokens' from activations (T·r); per-head k_nope and v are written (rows·nq·(dn+dv)).
    Prefill (C = 0) is the plain up-projection of the new tokens.
    """
    a = _mla(m)
    cached = p.batch * cached_keys_read(p, window)
    rows = cached + p.tokens
    width = m.num_attention_heads * (a.qk_nope_head_dim + a.v_head_dim)
    op = ops.linear("kv_b_proj", p, rows, a.kv_lora_rank, width)
    activations = p.tokens * a.kv_lora_rank * p.act_bytes + rows * width * p.act_bytes
    return op._replace(
        activation_bytes=activations,
        kv_bytes=cached * a.kv_lora_rank * p.kv_bytes,
        live_bytes=activations,
    )


def naive_attention(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """nq heads, (dn+dr)-wide scores and dv-wide values: 2·(dn+dr+dv) FLOPs per pair per head.

    Reads Q (T, nq·(dn+dr)) and writes O (T, nq·dv); reads the up-projected k_nope and v of
    every attended key (rows·nq·(dn+dv), written by kv_b_proj) and the shared rope key once
    per key (new: activations; cached: the cache's dr part). The rope key is broadcast over
    heads inside the kernel, never materialized per head.
    """
    a = _mla(m)
    nq = m.num_attention_heads
    cached = p.batch * cached_keys_read(p, window)
    keys = cached + p.tokens
    return attention_cost(
        p,
        window,
        heads=nq,
        score_dim=a.qk_head_dim,
        value_dim=a.v_head_dim,
        q_bytes=p.tokens * nq * a.qk_head_dim * p.act_bytes,
        o_bytes=p.tokens * nq * a.v_head_dim * p.act_bytes,
        fresh_kv_bytes=(
            keys * nq * (a.qk_nope_head_dim + a.v_head_dim) + p.tokens * a.qk_rope_head_dim
        )
        * p.act_bytes,
        cache_bytes=cached * a.qk_rope_head_dim * p.kv_bytes,
    )


def absorbed_attention(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """nq query heads over one shared latent "head": 2·(2·r+dr) FLOPs per pair per head.

    Scores q_latent·[c_kv; k_pe] over r + dr, values c_kv over r (FlashMLA's layout). Reads
    Q (T, nq·(r+dr)), writes O (T, nq·r), reads the new tokens' latent and rope key
    (T·(r+dr)) and each sequence's cached latent and rope key once (B·C·(r+dr), KV dtype).
    """
    a = _mla(m)
    nq, r, dr = m.num_attention_heads, a.kv_lora_rank, a.qk_rope_head_dim
    return attention_cost(
        p,
        window,
        heads=nq,
        score_dim=r + dr,
        value_dim=r,
        q_bytes=p.tokens * nq * (r + dr) * p.act_bytes,
        o_bytes=p.tokens * nq * r * p.act_bytes,
        fresh_kv_bytes=p.tokens * (r + dr) * p.act_bytes,
        cache_bytes=p.batch * cached_keys_read(p, window) * (r + dr) * p.kv_bytes,
    )
