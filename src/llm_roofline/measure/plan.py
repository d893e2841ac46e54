"""What ``llm-roofline measure`` runs: sizes for the full and the ``--quick`` sweeps.

Full: GEMM up to 4096², STREAM over arrays well past the last-level cache, linear layers
at 1, 2, 4, … 4096 tokens for realistic (in, out) shapes from 0.25M to 67M parameters,
each weight rotated among enough copies that every call reads it from DRAM, attention at
128-4096 keys, element-wise kernels from a few KB to hundreds of MB, and a tiny decoder
(1 and 5 layers) whose step time is pure framework overhead. Quick: the same on sizes
that take seconds (a check that the machinery works, not a usable calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20


@dataclass(frozen=True)
class AttentionPlan:
    heads: int
    kv_heads: int
    head_dim: int
    decode_batch: int  # sequences in a decode measurement (each reads its own cache)
    keys: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    gemm_sizes: tuple[int, ...]
    stream_bytes: int  # bytes of each STREAM array
    linear_shapes: tuple[tuple[int, int], ...]  # (d_in, d_out)
    tokens: tuple[int, ...]
    large_weight_params: int  # shapes at least this big (lm_head-like) stop at ...
    large_max_tokens: int  # ... this many tokens (they only ever see the last positions)
    rotation_bytes: int  # weight copies of one shape add up to at least this
    attention: AttentionPlan
    elementwise_dims: tuple[int, int]  # (hidden d, intermediate I) of the element-wise probes
    elementwise_tokens: tuple[int, ...]
    overhead_layers: tuple[int, int]  # tiny decoders of these depths give the per-layer cost
    warmup: int
    repeats: int
    budget_s: float  # per point, once 3 repeats are in


def powers_of_two(last: int) -> tuple[int, ...]:
    """1, 2, 4, … up to ``last`` inclusive."""
    out, n = [], 1
    while n <= last:
        out.append(n)
        n *= 2
    return tuple(out)


def full_plan(llc_bytes: int) -> Plan:
    """The sweep behind a usable profile (a few minutes per pass on one CPU core)."""
    return Plan(
        gemm_sizes=(1024, 2048, 4096),
        stream_bytes=max(512 * MiB, 2 * llc_bytes),
        linear_shapes=(
            (1024, 256),
            (1024, 1024),
            (2048, 2048),
            (1024, 4096),
            (4096, 1024),
            (2048, 8192),
            (8192, 2048),
            (2048, 32768),
        ),
        tokens=powers_of_two(4096),
        large_weight_params=32 * MiB,
        large_max_tokens=64,
        rotation_bytes=max(256 * MiB, 2 * llc_bytes),
        attention=AttentionPlan(
            heads=16, kv_heads=4, head_dim=64, decode_batch=16, keys=(128, 512, 2048, 4096)
        ),
        elementwise_dims=(2048, 8192),
        elementwise_tokens=(1, 4, 16, 64, 256, 1024, 4096),
        overhead_layers=(1, 5),
        warmup=2,
        repeats=7,
        budget_s=2.0,
    )


def quick_plan() -> Plan:
    """Small sizes that run in seconds: for tests and a first look, not for predictions."""
    return Plan(
        gemm_sizes=(256,),
        stream_bytes=8 * MiB,
        linear_shapes=((256, 256), (256, 1024)),
        tokens=(1, 4, 16, 64),
        large_weight_params=1 << 30,
        large_max_tokens=64,
        rotation_bytes=4 * MiB,
        attention=AttentionPlan(heads=4, kv_heads=2, head_dim=32, decode_batch=2, keys=(64, 256)),
        elementwise_dims=(256, 512),
        elementwise_tokens=(1, 16, 128),
        overhead_layers=(1, 3),
        warmup=1,
        repeats=3,
        budget_s=0.2,
    )
