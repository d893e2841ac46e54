"""Operator costs: one small pure formula per operator, each returning one ``OpCost``.

Conventions (each tested in tests/test_ops.py on shapes small enough to check by hand):
- A matmul costs 2 FLOPs per multiply-accumulate, lm_head included.
- A linear layer over T tokens reads its weights once per pass (plus quantization scales),
  reads T·in activations and writes T·out. Bias additions cost no FLOPs (negligible).
- k_proj and v_proj write the new tokens' K and V into the cache in the KV dtype; attention
  reads the new tokens' K and V as fresh activations and the C cached tokens' K and V as
  KV-cache reads (so decode at context C reads 2·L·n_kv·hd·C·b cache bytes).
- Element-wise operators (norms, rotary, activation, residual adds) read their inputs once
  and write their outputs once; their FLOPs are nominal per-element counts that never
  decide a bound.
- MoE operators live in ``moe``.
- Weights of matmuls (projections, MLP, experts, lm_head) are stored in the weight dtype;
  the small parameters (norm scales, biases, embedding rows, router, sinks) in 16-bit
  (fp32 when the weights are fp32), as weight-only quantization leaves them.
Every record is per instance (one layer's q_proj, say); ``instances`` says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..inputs.model import Model
from ..inputs.workload import Workload

MATMUL = "matmul"
ATTENTION = "attention"
ELEMENTWISE = "elementwise"
GATHER = "gather"
COMMUNICATION = "communication"


class OpCost(NamedTuple):
    """Cost of one operator instance. Bytes are memory traffic (reads + writes).

    A NamedTuple rather than a dataclass: an analysis builds a few hundred of these and
    tuple construction is three times cheaper than a frozen dataclass's.
    """

    name: str
    kind: str
    flops: float
    weight_bytes: float = 0.0  # weights (and scales) read
    activation_bytes: float = 0.0  # activations read + written
    kv_bytes: float = 0.0  # KV-cache reads + writes
    comm_bytes: float = 0.0  # bytes sent over the interconnect (per device)
    instances: int = 1  # how many times this instance cost occurs (e.g. layers)
    weight_params: int = 0  # parameters this operator owns (for the parameter count)
    param_bytes: float = 0.0  # bytes those parameters occupy in memory
    # matmul: (tokens, in, out); attention: (queries, keys, heads, batch, head_dim) with
    # keys = past + new per sequence; communication: (devices, message_bytes)
    shape: tuple[int, ...] = ()
    # What calibration looks up (never the name): matmul "linear" | "experts"; attention
    # "attention"; elementwise "norm" | "rotary" | "act_fn" | "residual" | "softmax";
    # gather "embedding"; communication "all_reduce" | "all_gather" | "all_to_all" | "send"
    family: str = ""
    live_bytes: float = 0.0  # activation bytes live at once while it runs (peak memory)

    @property
    def bytes(self) -> float:
        """Memory traffic: weights + activations + KV cache (not interconnect traffic)."""
        return self.weight_bytes + self.activation_bytes + self.kv_bytes

    def times(self, count: int) -> OpCost:
        """The same instance cost, ``count`` times over (a plain tuple copy: _replace is slow)."""
        return tuple.__new__(OpCost, (*self[:7], count, *self[8:]))


@dataclass(frozen=True, slots=True)
class Pass:
    """One forward pass: ``batch`` sequences, ``new`` tokens each, ``past`` already cached."""

    batch: int
    new: int
    past: int
    weight_bytes: float  # per matmul weight element, scales included
    small_bytes: float  # per small parameter (norm scale, bias, embedding row, router)
    act_bytes: float
    kv_bytes: float
    attention: str = "flash"
    causal: bool = True
    logits_all: bool = False
    mla_decode: str = "absorbed"  # MLA form of a pass over a cache (mla.py); prefill is naive

    @property
    def tokens(self) -> int:
        return self.batch * self.new

    @classmethod
    def of(cls, workload: Workload, *, new: int, past: int, batch: int | None = None) -> Pass:
        wb = workload.weight_bytes_per_element
        return cls(
            batch=workload.batch_size if batch is None else batch,
            new=new,
            past=past,
            weight_bytes=wb,
            small_bytes=4.0 if wb >= 4 else 2.0,
            act_bytes=workload.activation_bytes_per_element,
            kv_bytes=workload.kv_bytes_per_element,
            attention=workload.attention,
            causal=workload.causal,
            logits_all=workload.logits == "all",
            mla_decode=workload.mla_decode,
        )


# ---- primitives ----------------------------------------------------------------------


def linear(
    name: str,
    p: Pass,
    tokens: int,
    d_in: int,
    d_out: int,
    *,
    bias: bool = False,
    writes_kv: bool = False,
) -> OpCost:
    """(tokens, d_in) @ (d_in, d_out): 2·tokens·d_in·d_out FLOPs; weights d_in·d_out read once.

    Output goes to the KV cache (in the KV dtype) when ``writes_kv``, else to activations.
    """
    params = d_in * d_out + (d_out if bias else 0)
    weight_bytes = d_in * d_out * p.weight_bytes + (d_out * p.small_bytes if bias else 0)
    out_act = 0 if writes_kv else tokens * d_out * p.act_bytes
    return OpCost(
        name,
        MATMUL,
        flops=2 * tokens * d_in * d_out,
        weight_bytes=weight_bytes,
        activation_bytes=tokens * d_in * p.act_bytes + out_act,
        kv_bytes=tokens * d_out * p.kv_bytes if writes_kv else 0.0,
        weight_params=params,
        param_bytes=weight_bytes,
        shape=(tokens, d_in, d_out),
    )


def elementwise(
    name: str,
    p: Pass,
    *,
    read: float,
    write: float,
    flops_per_element: float,
    params: int = 0,
) -> OpCost:
    """Reads ``read`` and writes ``write`` elements once; nominal FLOPs per written element."""
    return OpCost(
        name,
        ELEMENTWISE,
        flops=flops_per_element * write,
        weight_bytes=params * p.small_bytes,
        activation_bytes=(read + write) * p.act_bytes,
        weight_params=params,
        param_bytes=params * p.small_bytes,
    )


# ---- element-wise operators ----------------------------------------------------------


def norm(name: str, m: Model, p: Pass, tokens: int | None = None) -> OpCost:
    """RMSNorm (≈4 FLOPs/element) or LayerNorm (≈8) over (tokens, d); scale (and bias) read."""
    t = p.tokens if tokens is None else tokens
    per_element = 8 if m.norm == "layernorm" else 4
    n = t * m.hidden_size
    return elementwise(
        name, p, read=n, write=n, flops_per_element=per_element, params=m.norm_params
    )


def qk_norm(m: Model, p: Pass) -> OpCost:
    """Per-head RMSNorm of q and k (Qwen3, Gemma-3): (T, nq·hd) and (T, n_kv·hd), 2·hd params."""
    n = p.tokens * (m.q_dim + m.kv_dim)
    return elementwise("qk_norm", p, read=n, write=n, flops_per_element=4, params=2 * m.head_dim)


def rotary_emb(m: Model, p: Pass) -> OpCost:
    """RoPE on q and k: (T, nq·hd + n_kv·hd) in and out, 3 FLOPs per element (2 mul, 1 add)."""
    n = p.tokens * (m.q_dim + m.kv_dim)
    return elementwise("rotary_emb", p, read=n, write=n, flops_per_element=3)


def residual(name: str, m: Model, p: Pass) -> OpCost:
    """x + f(x) over (T, d): two inputs read, one output written, 1 FLOP per element."""
    n = p.tokens * m.hidden_size
    return elementwise(name, p, read=2 * n, write=n, flops_per_element=1)


def act_fn(m: Model, p: Pass, tokens: int, intermediate: int) -> OpCost:
    """Gated: act(gate)·up reads 2·(T, I), writes (T, I), ≈5 FLOPs/element; plain: (T, I) in/out.

    Sized by the intermediate size, never the hidden size (a known trap).
    """
    n = tokens * intermediate
    reads = 2 * n if m.gated_mlp else n
    return elementwise("act_fn", p, read=reads, write=n, flops_per_element=5 if m.gated_mlp else 4)


# ---- attention -----------------------------------------------------------------------


def attended_pairs(p: Pass, window: int | None) -> float:
    """(query, key) pairs per sequence per head: the score entries actually computed.

    Query i (1-based among ``new``) sees past + i keys when causal (past + new if not);
    a window caps it at ``window``. Causal prefill from an empty cache: T·(T+1)/2.
    """
    if not p.causal:
        keys = p.past + p.new
        return float(p.new * (keys if window is None else min(keys, window)))
    if window is None:
        return float(p.new * p.past + p.new * (p.new + 1) // 2)
    # Windowed causal: sum over i of min(past + i, W), split where past + i reaches W.
    uncapped = max(0, min(p.new, window - p.past))  # queries with past + i <= W
    capped = p.new - uncapped
    return float(uncapped * p.past + uncapped * (uncapped + 1) // 2 + capped * window)


def cached_keys_read(p: Pass, window: int | None) -> int:
    """Cached tokens whose K and V one sequence's attention reads: C (or the window)."""
    return p.past if window is None else min(p.past, window)


def attention_ops(m: Model, p: Pass, window: int | None) -> list[OpCost]:
    """Scaled dot-product attention of one layer over the batch, GQA-correct.

    FLOPs: QKᵀ and PV, 2·hd each per (query, key) pair per query head; softmax not counted.
    flash: traffic is Q, new K and V in, O out, plus the cached K and V (each sequence's
    cache read once per layer; re-reads of K/V tiles per query block are assumed to hit
    on-chip memory). eager: scores are computed for every (query, key) position of a
    (T, C+T) matrix (the causal mask is applied after, no work saved), written, read by
    softmax, written again and read by PV. Sinks (gpt-oss) add one logit per head.
    """
    b, nq, hd = p.batch, m.num_attention_heads, m.head_dim
    pairs = attended_pairs(p, window) if p.attention == "flash" else _eager_pairs(p)
    flops = b * nq * pairs * 2 * (hd + hd)
    q_and_o = 2 * p.tokens * m.q_dim * p.act_bytes
    new_kv = 2 * p.tokens * m.kv_dim * p.act_bytes
    cache_read = 2 * b * cached_keys_read(p, window) * m.kv_dim * p.kv_bytes
    sinks = nq if m.attention_sinks else 0
    shape = (p.new, p.past + p.new, nq)
    if p.attention == "flash":
        return [
            OpCost(
                "attention",
                ATTENTION,
                flops=flops,
                weight_bytes=sinks * p.small_bytes,
                activation_bytes=q_and_o + new_kv,
                kv_bytes=cache_read,
                weight_params=sinks,
                param_bytes=sinks * p.small_bytes,
                shape=shape,
            )
        ]
    scores = b * nq * pairs * p.act_bytes  # one (T, C+T) score matrix per head, in memory
    half = flops / 2
    return [
        OpCost(
            "attn_scores",
            ATTENTION,
            flops=half,
            activation_bytes=p.tokens * m.q_dim * p.act_bytes + new_kv / 2 + scores,
            kv_bytes=cache_read / 2,
            shape=shape,
        ),
        OpCost(
            "attn_softmax",
            ELEMENTWISE,
            flops=5 * b * nq * pairs,
            weight_bytes=sinks * p.small_bytes,
            activation_bytes=2 * scores,
            weight_params=sinks,
            param_bytes=sinks * p.small_bytes,
        ),
        OpCost(
            "attn_values",
            ATTENTION,
            flops=half,
            activation_bytes=scores + new_kv / 2 + p.tokens * m.q_dim * p.act_bytes,
            kv_bytes=cache_read / 2,
            shape=shape,
        ),
    ]


def _eager_pairs(p: Pass) -> float:
    """Eager attention materializes every entry of its (T, C+T) score matrix, masks after."""
    return float(p.new * (p.past + p.new))


# ---- MLP and MoE ---------------------------------------------------------------------


def mlp_ops(m: Model, p: Pass) -> list[OpCost]:
    """Dense MLP: gate_proj, up_proj (T, d) @ (d, I); act_fn; down_proj (T, I) @ (I, d).

    A plain MLP (GPT-2, OPT, Falcon) has only up_proj (fc1) and down_proj (fc2).
    """
    t, d, i, bias = p.tokens, m.hidden_size, m.intermediate_size, m.mlp_bias
    ops = [linear("gate_proj", p, t, d, i, bias=bias)] if m.gated_mlp else []
    ops += [
        linear("up_proj", p, t, d, i, bias=bias),
        act_fn(m, p, t, i),
        linear("down_proj", p, t, i, d, bias=bias),
    ]
    return ops


# ---- embeddings and head -------------------------------------------------------------


def embed_tokens(m: Model, p: Pass) -> OpCost:
    """Gather: one row of d per token (distinct rows at most V) read; (T, d) written.

    The whole table (and a learned position table) counts as parameters, not as traffic.
    """
    rows = min(p.tokens, m.vocab_size) + (p.tokens if m.position_embeddings else 0)
    return OpCost(
        "embed_tokens",
        GATHER,
        flops=0.0,
        weight_bytes=rows * m.hidden_size * p.small_bytes,
        activation_bytes=p.tokens * m.hidden_size * p.act_bytes,
        weight_params=m.embedding_params,
        param_bytes=m.embedding_params * p.small_bytes,
    )


def logit_tokens(p: Pass) -> int:
    """Positions that get logits: the last of each sequence (serving) or all of them."""
    return p.tokens if p.logits_all else p.batch


def lm_head(m: Model, p: Pass) -> OpCost:
    """(B, d) @ (d, V) at 2 FLOPs per MAC; the (d, V) matrix is read even when tied.

    A tied head reuses the embedding table: it owns no parameters, but its reads are real.
    """
    op = linear("lm_head", p, logit_tokens(p), m.hidden_size, m.vocab_size, bias=m.lm_head_bias)
    if m.tie_word_embeddings:
        return op._replace(weight_params=0, param_bytes=0.0)
    return op
