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
Each record carries its ``family`` (what calibration looks up) and its ``live_bytes`` (the
activations live at once while it runs, for peak memory): nothing downstream reads names.

Array-ready: the token counts of a ``Pass`` (batch, new, past) and the bytes per element
may be numpy arrays; every formula then returns arrays of the same shape (engine/xp.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..inputs import xp
from ..inputs.model import Model
from ..inputs.workload import FRAMEWORK_CACHES, Workload
from ..inputs.xp import Number

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
    flops: Number  # every numeric field: a number, or an array (one value per configuration)
    weight_bytes: Number = 0.0  # weights (and scales) read
    activation_bytes: Number = 0.0  # activations read + written
    kv_bytes: Number = 0.0  # KV-cache reads + writes
    comm_bytes: Number = 0.0  # bytes sent over the interconnect (per device)
    instances: int = 1  # how many times this instance cost occurs (e.g. layers)
    weight_params: Number = 0  # parameters this operator owns (for the parameter count)
    param_bytes: Number = 0.0  # bytes those parameters occupy in memory
    # matmul: (tokens, in, out); attention: (queries, keys, heads, batch, head_dim,
    # kv_bytes_per_element) with keys = past + new per sequence; communication:
    # (devices, message_bytes)
    shape: tuple[Any, ...] = ()
    # What calibration looks up (never the name): matmul "linear" | "experts"; attention
    # "attention"; elementwise "norm" | "layernorm" | "rotary" | "act_fn" | "act_gelu_new" |
    # "act_gelu_tanh" | "act_gelu" | "act_relu" | "residual" | "softmax" | "cache_copy" |
    # "framework_layer" | "framework_step";
    # gather "embedding"; communication "all_reduce" | "all_gather" | "all_to_all" | "send"
    family: str = ""
    live_bytes: Number = 0.0  # activation bytes live at once while it runs (peak memory)

    @property
    def bytes(self) -> Number:
        """Memory traffic: weights + activations + KV cache (not interconnect traffic)."""
        return self.weight_bytes + self.activation_bytes + self.kv_bytes

    def times(self, count: int) -> OpCost:
        """The same instance cost, ``count`` times over (a plain tuple copy: _replace is slow)."""
        return tuple.__new__(OpCost, (*self[:7], count, *self[8:]))


class Pass(NamedTuple):
    """One forward pass: ``batch`` sequences, ``new`` tokens each, ``past`` already cached.

    batch, new and past (and the bytes per element) may be numpy arrays of equal shape:
    the pass then stands for that many configurations at once. A NamedTuple, as OpCost:
    an analysis makes dozens (``_replace`` is several times cheaper than ``replace``).
    """

    batch: Number
    new: Number
    past: Number
    weight_bytes: Number  # per matmul weight element, scales included
    small_bytes: Number  # per small parameter (norm scale, bias, embedding row, router)
    act_bytes: Number
    kv_bytes: Number
    head_bytes: Number  # per lm_head weight element (16-bit unless the head is quantized)
    attention: str = "flash"
    causal: bool = True
    logits_all: bool = False
    mla_decode: str = "absorbed"  # MLA form of a pass over a cache (mla.py); prefill is naive
    # The engine's KV cache when it adds framework operators (engine/framework.py): "" for
    # none, "dynamic" (transformers' DynamicCache copies it every step) or "static".
    framework_cache: str = ""

    @property
    def tokens(self) -> Number:
        return self.batch * self.new

    @property
    def is_scalar(self) -> bool:
        """One configuration (plain numbers), not an array of them: hashable, memoizable."""
        return xp.is_scalar(
            self.batch, self.new, self.past, self.weight_bytes, self.small_bytes,
            self.act_bytes, self.kv_bytes, self.head_bytes,
        )  # fmt: skip

    @classmethod
    def of(
        cls, workload: Workload, *, new: Number, past: Number, batch: Number | None = None
    ) -> Pass:
        hit = _TEMPLATES.get(id(workload))
        if hit is None or hit[0] is not workload:
            if len(_TEMPLATES) >= 256:
                _TEMPLATES.clear()
            hit = _TEMPLATES[id(workload)] = (workload, _template(workload))  # held: id stays
        b = workload.batch_size if batch is None else batch
        return tuple.__new__(cls, (b, new, past) + hit[1])  # _replace, without its cost


_TEMPLATES: dict[int, tuple[Workload, tuple[Any, ...]]] = {}  # its passes' sizes and flags


def _template(workload: Workload) -> tuple[Any, ...]:
    """A workload's pass fields after the token counts (batch, new, past): Pass's own order."""
    wb = workload.weight_bytes_per_element
    small = 4.0 if wb >= 4 else 2.0
    return (
        wb, small, workload.activation_bytes_per_element, workload.kv_bytes_per_element,
        wb if workload.quantize_head else small,  # head_bytes: 16-bit unless quantized
        workload.attention, workload.causal, workload.logits == "all", workload.mla_decode,
        FRAMEWORK_CACHES.get(workload.engine, ""),
    )  # fmt: skip


PASS_NUMBERS = (
    "batch", "new", "past", "weight_bytes", "small_bytes", "act_bytes", "kv_bytes", "head_bytes",
)  # fmt: skip  # the fields of a Pass that may be arrays


def pass_size(p: Pass) -> int:
    """How many configurations a pass stands for (1 for numbers; arrays are 1-D)."""
    return max((xp.size(getattr(p, f)) for f in PASS_NUMBERS), default=1)


def stack_passes(passes: Sequence[Pass]) -> tuple[Pass, list[slice]]:
    """One array pass standing for all of ``passes`` (equal in their other fields), and
    each one's slice of it: several passes priced in one array evaluation."""
    flags = {(q.attention, q.causal, q.logits_all, q.mla_decode, q.framework_cache) for q in passes}
    if len(flags) > 1:
        raise ValueError(
            "passes stacked into one array must agree in attention, causal, logits, MLA form "
            "and framework cache"
        )
    sizes = [pass_size(q) for q in passes]
    bounds = list(itertools.accumulate(sizes, initial=0))
    slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    columns = {}
    for f in PASS_NUMBERS:
        values = [getattr(q, f) for q in passes]
        if xp.is_scalar(*values) and len(set(values)) == 1:
            continue  # one number for all stays a number (curves read it once)
        columns[f] = xp.concatenate(
            [xp.broadcast(v, n) for v, n in zip(values, sizes, strict=True)]
        )
    return passes[0]._replace(**columns), slices


def prefill_pass(w: Workload, batch: Number | None = None, prompt: Number | None = None) -> Pass:
    """Prefill: ``prompt_len`` new tokens per sequence into an empty cache."""
    return Pass.of(w, new=w.prompt_len if prompt is None else prompt, past=0, batch=batch)


def decode_pass(w: Workload, batch: Number | None = None, context: Number | None = None) -> Pass:
    """Decode: 1 new token per sequence with ``context_len`` (default: the prompt) cached."""
    past = w.decode_context_len if context is None else context
    return Pass.of(w, new=1, past=past, batch=batch)


# ---- primitives ----------------------------------------------------------------------


def linear(
    name: str,
    p: Pass,
    tokens: Number,
    d_in: int,
    d_out: int,
    *,
    bias: bool = False,
    writes_kv: bool = False,
    element_bytes: Number | None = None,
) -> OpCost:
    """(tokens, d_in) @ (d_in, d_out): 2·tokens·d_in·d_out FLOPs; weights d_in·d_out read once.

    Weights in the weight dtype (``element_bytes`` overrides: the lm_head's 16 bits); output
    to the KV cache (in the KV dtype) when ``writes_kv``, else to activations.
    """
    per_weight = p.weight_bytes if element_bytes is None else element_bytes
    params = d_in * d_out + (d_out if bias else 0)
    weight_bytes = d_in * d_out * per_weight + (d_out * p.small_bytes if bias else 0)
    out_act = 0 if writes_kv else tokens * d_out * p.act_bytes
    activations = tokens * d_in * p.act_bytes + out_act
    return OpCost(
        name,
        MATMUL,
        flops=2 * tokens * d_in * d_out,
        weight_bytes=weight_bytes,
        activation_bytes=activations,
        kv_bytes=tokens * d_out * p.kv_bytes if writes_kv else 0.0,
        weight_params=params,
        param_bytes=weight_bytes,
        shape=(tokens, d_in, d_out),
        family="linear",
        live_bytes=activations,
    )


def elementwise(
    name: str,
    family: str,
    p: Pass,
    *,
    read: Number,
    write: Number,
    flops_per_element: float,
    params: int = 0,
) -> OpCost:
    """Reads ``read`` and writes ``write`` elements once; nominal FLOPs per written element."""
    activations = (read + write) * p.act_bytes
    return OpCost(
        name,
        ELEMENTWISE,
        flops=flops_per_element * write,
        weight_bytes=params * p.small_bytes,
        activation_bytes=activations,
        weight_params=params,
        param_bytes=params * p.small_bytes,
        family=family,
        live_bytes=activations,
    )


# ---- element-wise operators ----------------------------------------------------------


def norm(name: str, m: Model, p: Pass) -> OpCost:
    """RMSNorm (≈4 FLOPs/element) or LayerNorm (≈8) over (T, d); scale (and bias) read.

    Family "norm" (RMSNorm) or "layernorm": a table without a layernorm curve prices it
    as "norm" (calibration_table.py)."""
    layer = m.norm == "layernorm"
    n = p.tokens * m.hidden_size
    family = "layernorm" if layer else "norm"
    return elementwise(
        name, family, p, read=n, write=n, flops_per_element=8 if layer else 4, params=m.norm_params
    )


def qk_norm(m: Model, p: Pass) -> OpCost:
    """Per-head RMSNorm of q and k (Qwen3, Gemma-3): (T, nq·hd) and (T, n_kv·hd), 2·hd params."""
    n = p.tokens * (m.q_dim + m.kv_dim)
    return elementwise(
        "qk_norm", "norm", p, read=n, write=n, flops_per_element=4, params=2 * m.head_dim
    )


def latent_norm(name: str, p: Pass, width: int) -> OpCost:
    """RMSNorm over (T, width) (MLA's q_a_layernorm: r_q; kv_a_layernorm: r); a scale of width."""
    n = p.tokens * width
    return elementwise(name, "norm", p, read=n, write=n, flops_per_element=4, params=width)


def rotary(p: Pass, elements_per_token: int) -> OpCost:
    """RoPE over (T, elements_per_token) in and out, 3 FLOPs per element (2 mul, 1 add)."""
    n = p.tokens * elements_per_token
    return elementwise("rotary_emb", "rotary", p, read=n, write=n, flops_per_element=3)


def rotary_emb(m: Model, p: Pass) -> OpCost:
    """RoPE on q and k: (T, nq·hd + n_kv·hd)."""
    return rotary(p, m.q_dim + m.kv_dim)


def residual(name: str, m: Model, p: Pass) -> OpCost:
    """x + f(x) over (T, d): two inputs read, one output written, 1 FLOP per element."""
    n = p.tokens * m.hidden_size
    return elementwise(name, "residual", p, read=2 * n, write=n, flops_per_element=1)


def act_fn(m: Model, p: Pass, tokens: Number, intermediate: int) -> OpCost:
    """Gated: act(gate)·up reads 2·(T, I), writes (T, I), ≈5 FLOPs/element; plain: (T, I) in/out.

    Sized by the intermediate size, never the hidden size (a known trap).
    """
    n = tokens * intermediate
    reads = 2 * n if m.gated_mlp else n
    per_element = 5 if m.gated_mlp else 4
    family = "act_fn" if m.gated_mlp else ACTIVATION_FAMILIES.get(m.activation, "act_fn")
    return elementwise("act_fn", family, p, read=reads, write=n, flops_per_element=per_element)


# A plain MLP's activation (config ``hidden_act`` / ``activation_function``) -> the family
# whose curve prices it; a table without that curve uses "act_fn" (the gated product's).
# gelu_new is transformers' NewGELUActivation: the tanh formula in Python, several kernels;
# gelu_pytorch_tanh is one fused kernel (F.gelu(approximate="tanh")).
ACTIVATION_FAMILIES = {
    "gelu_new": "act_gelu_new",
    "gelu_fast": "act_gelu_new",
    "gelu_pytorch_tanh": "act_gelu_tanh",
    "gelu": "act_gelu",
    "relu": "act_relu",
}


# ---- MLP -----------------------------------------------------------------------------


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

    The whole table (and a learned position table) counts as parameters, not as traffic;
    it is stored in 16 bits (fp32 for fp32 weights) whatever the weight dtype.
    """
    rows = xp.minimum(p.tokens, m.vocab_size) + (p.tokens if m.position_embeddings else 0)
    activations = p.tokens * m.hidden_size * p.act_bytes
    return OpCost(
        "embed_tokens",
        GATHER,
        flops=0.0,
        weight_bytes=rows * m.hidden_size * p.small_bytes,
        activation_bytes=activations,
        weight_params=m.embedding_params,
        param_bytes=m.embedding_params * p.small_bytes,
        family="embedding",
        live_bytes=activations,
    )


def logit_tokens(p: Pass) -> Number:
    """Positions that get logits: the last of each sequence (serving) or all of them."""
    return p.tokens if p.logits_all else p.batch


def lm_head(m: Model, p: Pass) -> OpCost:
    """(B, d) @ (d, V) at 2 FLOPs per MAC; the (d, V) matrix is read even when tied.

    Its weights are in ``p.head_bytes`` (16-bit by default, as GPTQ, AWQ and llama.cpp leave
    the head; a tied head is the 16-bit embedding table). A tied head reuses the embedding
    table: it owns no parameters, but its reads are real.
    """
    op = linear(
        "lm_head",
        p,
        logit_tokens(p),
        m.hidden_size,
        m.vocab_size,
        bias=m.lm_head_bias,
        element_bytes=p.small_bytes if m.tie_word_embeddings else p.head_bytes,
    )
    if m.tie_word_embeddings:
        return op._replace(weight_params=0, param_bytes=0.0)
    return op
