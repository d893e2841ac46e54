"""MoE operators: the router, the routed experts (top-k per token), the shared experts.

FLOPs use the k experts each token chooses. Weight bytes use the expected number of
distinct experts a batch touches under uniform routing (an assumption: real routers are
skewed). Conventions as in ``ops``; tested in tests/test_ops.py.
"""

from __future__ import annotations

from ..inputs import xp
from ..inputs.model import Model
from ..inputs.xp import Number
from .ops import MATMUL, OpCost, Pass


def distinct_experts(num_experts: int, top_k: int, tokens: Number) -> Number:
    """Expected experts a batch of ``tokens`` touches under uniform routing: E·(1 − (1 − k/E)^T).

    An assumption (real routers are not uniform); 1 token touches k, many touch all E.
    Evaluated as −E·expm1(T·log1p(−k/E)), exact even when k/E is below float precision.
    """
    if top_k == num_experts:
        return xp.to_float(num_experts + 0 * tokens)
    return -num_experts * xp.expm1(tokens * xp.log1p(-top_k / num_experts))


def _expert_chain(m: Model, p: Pass, tokens: Number, intermediate: int) -> OpCost:
    """The four steps of one gated/plain MLP over ``tokens`` rows, as one record (no weights).

    Live at once is its widest step: (rows, d) in and (rows, n_in·I) out.
    """
    d = m.hidden_size
    n_in = 2 if m.gated_mlp else 1
    reads = tokens * (n_in * d + n_in * intermediate + intermediate)  # x per matrix, act, down
    writes = tokens * (n_in * intermediate + intermediate + d)
    flops = 2 * tokens * (n_in + 1) * d * intermediate + 5 * tokens * intermediate
    return OpCost(
        "mlp",
        MATMUL,
        flops=flops,
        activation_bytes=(reads + writes) * p.act_bytes,
        family="experts",
        live_bytes=tokens * (d + n_in * intermediate) * p.act_bytes,
    )


def router(m: Model, p: Pass) -> OpCost:
    """Router (T, d) @ (d, E), its weights (and biases) small parameters in 16 bits."""
    assert m.moe is not None
    t, d, e = p.tokens, m.hidden_size, m.moe.num_experts
    params = m.moe_router_params
    return OpCost(
        "router",
        MATMUL,
        flops=2 * t * d * e,
        weight_bytes=params * p.small_bytes,
        activation_bytes=t * (d + e) * p.act_bytes,
        weight_params=params,
        param_bytes=params * p.small_bytes,
        shape=(t, d, e),
        family="linear",
        live_bytes=t * (d + e) * p.act_bytes,
    )


def routed_experts(m: Model, p: Pass) -> OpCost:
    """The routed experts over the pass's T tokens, top-k each.

    FLOPs use the k experts each token chooses. Weight bytes use the expected distinct
    experts touched (``distinct_experts``). Activations follow the dense MLP chain over
    T·k rows, plus the weighted combine (T·k·d read, T·d written).
    """
    assert m.moe is not None
    moe, t, d = m.moe, p.tokens, m.hidden_size
    e, k = moe.num_experts, moe.experts_per_token
    touched = distinct_experts(e, k, t)
    expert_bytes = _mlp_weight_bytes(m, p, moe.expert_intermediate_size, moe.expert_bias)
    chain = _expert_chain(m, p, t * k, moe.expert_intermediate_size)
    return OpCost(
        "experts",
        MATMUL,
        flops=chain.flops,
        weight_bytes=touched * expert_bytes,
        activation_bytes=chain.activation_bytes + t * (k + 1) * d * p.act_bytes,
        weight_params=e * m.expert_params,
        param_bytes=e * expert_bytes,
        shape=(t * k / touched, d, moe.expert_intermediate_size),  # rows per touched expert
        family="experts",
        live_bytes=chain.live_bytes,
    )


def expert_share(experts: OpCost, devices: int) -> OpCost:
    """One device's part of the routed experts split whole across ``devices`` (expert
    parallelism): of the T·k routed rows, T·k/e land on each device (uniform routing) and
    each of its E/e experts is touched with the same probability, so FLOPs, weight reads,
    parameters and activations are 1/e of the whole stage's (``routed_experts`` over all
    the stage's tokens)."""
    return experts._replace(
        flops=experts.flops / devices,
        weight_bytes=experts.weight_bytes / devices,
        activation_bytes=experts.activation_bytes / devices,
        weight_params=experts.weight_params // devices,
        param_bytes=experts.param_bytes / devices,
        live_bytes=experts.live_bytes / devices,
    )


def moe_ops(m: Model, p: Pass) -> list[OpCost]:
    """Router, routed experts, [shared experts]: the MoE block of one device."""
    assert m.moe is not None
    ops = [router(m, p), routed_experts(m, p)]
    if m.moe.num_shared_experts:
        ops.append(shared_experts(m, p))
    return ops


def shared_experts(m: Model, p: Pass) -> OpCost:
    """Every token through each shared expert (and Qwen2-MoE's d → 1 sigmoid gate)."""
    assert m.moe is not None
    moe, t = m.moe, p.tokens
    size, n = moe.shared_expert_intermediate_size, moe.num_shared_experts
    chain = _expert_chain(m, p, t * n, size)
    gate = m.hidden_size if moe.shared_expert_gate else 0
    weight_bytes = n * _mlp_weight_bytes(m, p, size, moe.expert_bias) + gate * p.small_bytes
    return OpCost(
        "shared_experts",
        MATMUL,
        flops=chain.flops + 2 * t * gate,
        weight_bytes=weight_bytes,
        activation_bytes=chain.activation_bytes,
        weight_params=m.shared_expert_params,
        param_bytes=weight_bytes,
        shape=(t, m.hidden_size, size),
        family="experts",
        live_bytes=chain.live_bytes,
    )


def _mlp_weight_bytes(m: Model, p: Pass, intermediate: int, bias: bool) -> Number:
    """Bytes of one MLP's weights: matrices in the weight dtype, biases in 16-bit."""
    d, n_in = m.hidden_size, (2 if m.gated_mlp else 1)
    matrices = (n_in + 1) * d * intermediate * p.weight_bytes
    return matrices + ((n_in * intermediate + d) * p.small_bytes if bias else 0)
