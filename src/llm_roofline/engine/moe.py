"""MoE operators: the router, the routed experts (top-k per token), the shared experts.

FLOPs use the k experts each token chooses. Weight bytes use the expected number of
distinct experts a batch touches under uniform routing (an assumption: real routers are
skewed). Conventions as in ``ops``; tested in tests/test_ops.py.
"""

from __future__ import annotations

from ..inputs.model import Model
from .ops import MATMUL, OpCost, Pass


def distinct_experts(num_experts: int, top_k: int, tokens: int) -> float:
    """Expected experts a batch of ``tokens`` touches under uniform routing: E·(1 − (1 − k/E)^T).

    An assumption (real routers are not uniform); 1 token touches k, many touch all E.
    """
    return num_experts * (1 - (1 - top_k / num_experts) ** tokens)


def _expert_chain(m: Model, p: Pass, tokens: float, intermediate: int) -> OpCost:
    """The four steps of one gated/plain MLP over ``tokens`` rows, as one record (no weights)."""
    d = m.hidden_size
    n_in = 2 if m.gated_mlp else 1
    reads = tokens * (
        n_in * d + n_in * intermediate + intermediate
    )  # x per input matrix, act, down
    writes = tokens * (n_in * intermediate + intermediate + d)
    flops = 2 * tokens * (n_in + 1) * d * intermediate + 5 * tokens * intermediate
    return OpCost("mlp", MATMUL, flops=flops, activation_bytes=(reads + writes) * p.act_bytes)


def moe_ops(m: Model, p: Pass) -> list[OpCost]:
    """Router (T, d) @ (d, E); the routed experts (top-k per token); the shared experts.

    FLOPs use the k experts each token chooses. Weight bytes use the expected distinct
    experts touched (``distinct_experts``). Expert activations follow the dense MLP chain
    over T·k rows, plus the weighted combine (T·k·d read, T·d written).
    """
    assert m.moe is not None
    moe, t, d = m.moe, p.tokens, m.hidden_size
    e, k = moe.num_experts, moe.experts_per_token
    router_params = m.moe_router_params
    router = OpCost(
        "router",
        MATMUL,
        flops=2 * t * d * e,
        weight_bytes=router_params * p.small_bytes,
        activation_bytes=t * (d + e) * p.act_bytes,
        weight_params=router_params,
        param_bytes=router_params * p.small_bytes,
        shape=(t, d, e),
    )
    touched = distinct_experts(e, k, t)
    expert_bytes = _mlp_weight_bytes(m, p, moe.expert_intermediate_size, moe.expert_bias)
    chain = _expert_chain(m, p, t * k, moe.expert_intermediate_size)
    experts = OpCost(
        "experts",
        MATMUL,
        flops=chain.flops,
        weight_bytes=touched * expert_bytes,
        activation_bytes=chain.activation_bytes + t * (k + 1) * d * p.act_bytes,
        weight_params=e * m.expert_params,
        param_bytes=e * expert_bytes,
        shape=(round(t * k / touched), d, moe.expert_intermediate_size),
    )
    ops = [router, experts]
    if moe.num_shared_experts:
        ops.append(_shared_experts(m, p))
    return ops


def _shared_experts(m: Model, p: Pass) -> OpCost:
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
    )


def _mlp_weight_bytes(m: Model, p: Pass, intermediate: int, bias: bool) -> float:
    """Bytes of one MLP's weights: matrices in the weight dtype, biases in 16-bit."""
    d, n_in = m.hidden_size, (2 if m.gated_mlp else 1)
    matrices = (n_in + 1) * d * intermediate * p.weight_bytes
    return matrices + ((n_in * intermediate + d) * p.small_bytes if bias else 0)
