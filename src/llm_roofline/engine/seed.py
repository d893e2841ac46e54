"""The seed exercise: prefill vs decode in the 12·d² model, with exact parity.

The exercise models each transformer layer as 12·d² weights (4·d² attention projections,
8·d² MLP), ignores attention scores and the KV cache, and moves one activation in and
one out per token. With d = d_model, L = n_layers, s = seq_len, b = bytes per element,
P = peak FLOP/s and W = bandwidth (bytes/s):

    prefill FLOPs/layer = 2·s·12·d²            bytes/layer = 12·d²·b + 2·s·d·b
    decode  FLOPs/layer = 2·1·12·d²            bytes/layer = 12·d²·b + 2·1·d·b
    ridge point R = P / W;  a phase is compute-bound iff its unrounded AI >= R

The totals are the per-layer values times L, then one true division, in exactly the
order written, so results are bit-identical to the exercise's reference answers.
The operator-level engine (``llm_roofline.analysis``) reduces to this model when given a
12·d² model with no attention or KV cache (tested).
"""

from __future__ import annotations

import math
from typing import Any

from ..inputs import checks

COMPUTE_BOUND = "compute-bound"
MEMORY_BOUND = "memory-bound"


def _bound(arithmetic_intensity: float, ridge_point: float) -> str:
    # A tie is compute-bound: the roof and the slope meet at the ridge.
    return COMPUTE_BOUND if arithmetic_intensity >= ridge_point else MEMORY_BOUND


def _check_seed_inputs(
    d_model: Any,
    n_layers: Any,
    seq_len: Any,
    peak_flops: Any,
    peak_bandwidth: Any,
    dtype_bytes: Any,
) -> tuple[int, int, int, float | int, float | int, float | int]:
    return (
        checks.integer("d_model", d_model, minimum=1),
        checks.integer("n_layers", n_layers, minimum=1),
        checks.integer("seq_len", seq_len, minimum=0),
        checks.positive("peak_flops", peak_flops),
        checks.positive("peak_bandwidth", peak_bandwidth),
        checks.positive("dtype_bytes", dtype_bytes),
    )


def seed_phase_intensity(d_model: int, n_layers: int, tokens: int, dtype_bytes: float) -> float:
    """Unrounded AI (FLOP/byte) of a pass over ``tokens`` tokens in the 12·d² model.

    Shapes: (tokens, d) @ (d, 12·d) summed over the layer; 2 FLOPs per MAC; weights read
    once (12·d²·b), one activation in and one out per token (2·tokens·d·b).
    """
    d, s, b = d_model, tokens, dtype_bytes
    flops_per_layer = 2 * s * 12 * d * d
    bytes_per_layer = 12 * d * d * b + 2 * s * d * b
    total_flops = flops_per_layer * n_layers
    total_bytes = bytes_per_layer * n_layers
    return total_flops / total_bytes


def classify_prefill_vs_decode(
    d_model: int,
    n_layers: int,
    seq_len: int,
    peak_flops: float,
    peak_bandwidth: float,
    dtype_bytes: float = 2,
) -> dict[str, Any]:
    """Classify prefill and decode as compute- or memory-bound in the seed 12·d² model.

    >>> classify_prefill_vs_decode(4096, 32, 512, 312e12, 2.039e12)["prefill"]
    {'arithmetic_intensity': 501.551, 'classification': 'compute-bound'}
    """
    d, L, s, P, W, b = _check_seed_inputs(
        d_model, n_layers, seq_len, peak_flops, peak_bandwidth, dtype_bytes
    )
    ridge_point = P / W
    prefill_ai = seed_phase_intensity(d, L, s, b)
    decode_ai = seed_phase_intensity(d, L, 1, b)
    return {
        "prefill": {
            "arithmetic_intensity": round(prefill_ai, 4),
            "classification": _bound(prefill_ai, ridge_point),
        },
        "decode": {
            "arithmetic_intensity": round(decode_ai, 4),
            "classification": _bound(decode_ai, ridge_point),
        },
        "ridge_point": round(ridge_point, 4),
    }


def prefill_intensity_limit(d_model: int, dtype_bytes: float = 2) -> float:
    """AI of seed prefill as s → ∞: 12·d / b (the weight traffic becomes negligible next
    to the per-token activation traffic, so AI → 24·s·d² / (2·s·d·b))."""
    d = checks.integer("d_model", d_model, minimum=1)
    b = checks.positive("dtype_bytes", dtype_bytes)
    return 12 * d / b


def decode_intensity_limit(dtype_bytes: float = 2) -> float:
    """Upper bound of seed decode AI, 2 / b: one token does 2 FLOPs per weight element read.

    The exact decode AI is 24·d² / (12·d²·b + 2·d·b), always strictly below 2 / b.
    """
    b = checks.positive("dtype_bytes", dtype_bytes)
    return 2 / b


def critical_seq_len(
    d_model: int, peak_flops: float, peak_bandwidth: float, dtype_bytes: float = 2
) -> int | None:
    """Smallest prompt length s at which seed prefill is compute-bound, or ``None``.

    AI_p(s) = 12·s·d / (b·(6·d + s)) rises with s towards 12·d / b; solving AI_p >= R gives
    s* = 12·b·d·R / (24·d − 2·b·R). The answer is the first integer s with AI_p(s) >= R,
    checked against the exact AI so float rounding never moves it. ``None`` when
    R >= 12·d / b: prefill is then memory-bound at every length. n_layers cancels.
    """
    d = checks.integer("d_model", d_model, minimum=1)
    P = checks.positive("peak_flops", peak_flops)
    W = checks.positive("peak_bandwidth", peak_bandwidth)
    b = checks.positive("dtype_bytes", dtype_bytes)
    ridge_point = P / W
    if ridge_point >= 12 * d / b:
        return None
    s_star = 12 * b * d * ridge_point / (24 * d - 2 * b * ridge_point)
    s = max(0, math.ceil(s_star))
    while s > 0 and seed_phase_intensity(d, 1, s - 1, b) >= ridge_point:
        s -= 1
    while seed_phase_intensity(d, 1, s, b) < ridge_point:
        s += 1
    return s


def classify_llm_phases(
    num_params: float,
    sequence_length: int,
    batch_size: int,
    bytes_per_param: float,
    peak_flops: float,
    peak_bandwidth: float,
) -> dict[str, Any]:
    """The weights-only form of the exercise: N parameters, prefill over ``sequence_length``
    tokens, decode over ``batch_size`` tokens (one per sequence).

    FLOPs = 2·N·tokens (2 per MAC); bytes = N·bytes_per_param (weights only, read once);
    achieved FLOP/s = peak if compute-bound else AI·bandwidth.
    """
    N = checks.positive("num_params", num_params)
    s = checks.integer("sequence_length", sequence_length, minimum=0)
    batch = checks.integer("batch_size", batch_size, minimum=1)
    bpp = checks.positive("bytes_per_param", bytes_per_param)
    P = checks.positive("peak_flops", peak_flops)
    W = checks.positive("peak_bandwidth", peak_bandwidth)
    ridge_point = P / W

    def phase(tokens: int) -> dict[str, Any]:
        total_flops = 2 * N * tokens
        memory_bytes = N * bpp
        ai = total_flops / memory_bytes
        bottleneck = _bound(ai, ridge_point)
        achieved = P if bottleneck == COMPUTE_BOUND else ai * W
        return {
            "total_flops": _round(total_flops),
            "memory_bytes": _round(memory_bytes),
            "arithmetic_intensity": round(ai, 4),
            "bottleneck": bottleneck,
            "achieved_flops": _round(achieved),
            "utilization_percent": round(achieved / P * 100, 4),
        }

    return {"ridge_point": round(ridge_point, 4), "prefill": phase(s), "decode": phase(batch)}


def _round(value: float | int) -> float | int:
    return value if isinstance(value, int) else round(value, 4)
