"""From measured times to efficiencies, with the engine's own operator formulas. Pure.

Each probe's ideal time comes from ``ops.py`` (the same ``OpCost`` the analysis builds),
so an efficiency is exactly "what fraction of *our* roofline this kernel reached", and
``calibration.py`` can apply it to any operator of the same kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..engine import ops, roofline
from ..engine.attention import attention_ops
from ..engine.blocks import flatten, layer_blocks
from ..engine.ops import OpCost, Pass
from ..engine.sharding import forward_operators
from ..inputs.model import Model
from ..inputs.workload import Workload
from .plan import AttentionPlan

# The probe of each plain-activation family, as a config's hidden_act names it.
PLAIN_ACTIVATION_NAMES: dict[str, str] = {}
for _act, _family in ops.ACTIVATION_FAMILIES.items():
    PLAIN_ACTIVATION_NAMES.setdefault(_family, _act)
MIN_WORK_FRACTION = 0.1  # work is never taken below this share of a measured time


def probe_pass(dtype: str, *, tokens: int, past: int = 0, batch: int = 1) -> Pass:
    w = Workload(batch_size=batch, weight_dtype=dtype, activation_dtype=dtype, kv_dtype=dtype)
    return Pass.of(w, new=tokens, past=past, batch=batch)


def probe_model(
    hidden: int, intermediate: int, heads: int, kv_heads: int, head_dim: int, layers: int = 1
) -> Model:
    """A Llama-shaped Model with the given widths (vocabulary 256: only its layers matter)."""
    return Model(
        name="probe",
        vocab_size=256,
        hidden_size=hidden,
        num_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
    )


def rotary_heads(hidden: int) -> tuple[int, int, int]:
    """(heads, kv_heads, head_dim) of the rotary probe: hd 64 (32 below d = 1024), GQA 4."""
    hd = 64 if hidden >= 1024 else 32
    heads = hidden // hd
    return heads, max(1, heads // 4), hd


def matmul_cost(dtype: str, tokens: int, d_in: int, d_out: int) -> OpCost:
    """(tokens, d_in) @ (d_in, d_out) as ops.linear counts it."""
    return ops.linear("probe", probe_pass(dtype, tokens=tokens), tokens, d_in, d_out)


def attention_cost(dtype: str, plan: AttentionPlan, batch: int, queries: int, keys: int) -> OpCost:
    """``queries`` new tokens per sequence attending to ``keys`` in all (flash, causal)."""
    m = probe_model(plan.heads * plan.head_dim, 1, plan.heads, plan.kv_heads, plan.head_dim)
    p = probe_pass(dtype, tokens=queries, past=keys - queries, batch=batch)
    return attention_ops(m, p, None)[0]


def elementwise_cost(family: str, dtype: str, tokens: int, dims: tuple[int, int]) -> OpCost:
    """One element-wise operator of a layer with hidden d and intermediate I = ``dims``."""
    d, inter = dims
    heads, kv_heads, hd = rotary_heads(d)
    m = probe_model(d, inter, heads, kv_heads, hd)
    p = probe_pass(dtype, tokens=tokens)
    if family == "norm":
        return ops.norm("input_layernorm", m, p)
    if family == "rotary":
        return ops.rotary_emb(m, p)
    if family == "act_fn":
        return ops.act_fn(m, p, tokens, inter)
    if family == "residual":
        return ops.residual("attn_residual", m, p)
    if family == "layernorm":
        return ops.norm("input_layernorm", replace(m, norm="layernorm"), p)
    if family in PLAIN_ACTIVATION_NAMES:
        plain = replace(m, gated_mlp=False, activation=PLAIN_ACTIVATION_NAMES[family])
        return ops.act_fn(plain, p, tokens, inter)
    raise ValueError(f"unknown element-wise family {family!r}")


def model_matmul_shapes(m: Model) -> list[tuple[int, int]]:
    """The distinct (d_in, d_out) of a model's matmuls (projections, MLP, lm_head), in order."""
    shapes: dict[tuple[int, int], None] = {}
    for op in forward_operators(m, probe_pass("fp32", tokens=1)):
        if op.kind == ops.MATMUL and len(op.shape) >= 3:
            shapes[(op.shape[1], op.shape[2])] = None
    return list(shapes)


def ideal_s(op: OpCost, peak_flops_per_s: float, bandwidth_bytes_per_s: float) -> float:
    return float(roofline.op_time_s(op.flops, op.bytes, peak_flops_per_s, bandwidth_bytes_per_s))


def efficiency(ideal: float, measured_s: float, overhead_s: float) -> float:
    """ideal / work, work = measured − overhead (at least 10% of measured: noise guard)."""
    work = max(measured_s - overhead_s, MIN_WORK_FRACTION * measured_s)
    return ideal / work


@dataclass(frozen=True)
class Overheads:
    """Seconds per operator instance by kind, and how they were obtained."""

    matmul: float
    attention: float
    elementwise: float
    gather: float
    per_layer_s: float | None  # from the tiny decoder, when one ran
    method: str

    def as_dict(self) -> dict[str, float]:
        return {
            "matmul": self.matmul,
            "attention": self.attention,
            "elementwise": self.elementwise,
            "gather": self.gather,
        }


def layer_kind_counts(m: Model) -> Counter[str]:
    """Operators of one layer by kind (gather counted with elementwise)."""
    kinds = Counter(
        op.kind
        for op in flatten(
            layer_blocks(m, probe_pass("fp32", tokens=1, past=8), m.layer_groups[0]), 1
        )
    )
    kinds[ops.ELEMENTWISE] += kinds.pop(ops.GATHER, 0)
    return kinds


def fit_overheads(
    step_s: Sequence[float],
    layers: Sequence[int],
    counts: Counter[str],
    linear_s: float,
    attention_s: float,
) -> Overheads:
    """Per-kind overheads from tiny-decoder steps at two depths.

    per_layer = Δstep / Δlayers; the matmul and attention shares are their own tiny-call
    times; the rest of the layer (element-wise kernels and the Python glue between
    operators: views, cache writes, module calls) is split evenly over its element-wise
    operators. The step's fixed part, less lm_head and final norm, is the embedding's.
    """
    per_layer = max(0.0, (step_s[1] - step_s[0]) / (layers[1] - layers[0]))
    fixed = max(0.0, step_s[0] - layers[0] * per_layer)
    n_mm, n_att = counts[ops.MATMUL], counts[ops.ATTENTION]
    n_ew = max(1, counts[ops.ELEMENTWISE])
    rest = per_layer - n_mm * linear_s - n_att * attention_s
    elementwise = max(0.0, rest / n_ew)
    gather = max(0.0, fixed - linear_s - elementwise)
    return Overheads(linear_s, attention_s, elementwise, gather, per_layer, "tiny-decoder fit")
