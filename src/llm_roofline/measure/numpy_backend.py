"""The numpy fallback for ``measure`` when torch is absent: fp32 on the CPU only.

The same factories as ``torch_backend`` (each returns ``call(i)``), written with numpy:
BLAS for matmuls, eager softmax attention, element-wise kernels as numpy expressions.
It has no reference decoder, so overheads come from the kernels' own small-size times.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..inputs.model import Model
from .plan import AttentionPlan

Call = Callable[[int], object]
F32 = np.float32


def _rms_norm(x: Any, w: Any) -> Any:
    return x * (1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)) * w


def _rope(x: Any, cos: Any, sin: Any) -> Any:
    half = x.shape[-1] // 2
    return x * cos + np.concatenate((-x[..., half:], x[..., :half]), axis=-1) * sin


def _attention(q: Any, k: Any, v: Any, causal: bool) -> Any:
    """q (B, nkv, g·T, hd) grouped by KV head; k, v (B, nkv, S, hd)."""
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if causal:
        t, s = scores.shape[-2], scores.shape[-1]
        rows = np.arange(t) % (t if t < s else s) + (s - min(t, s))
        scores = np.where(np.arange(s)[None, :] <= rows[:, None], scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (scores / scores.sum(axis=-1, keepdims=True)) @ v


class NumpyBackend:
    name = "numpy"
    is_cuda = False

    def __init__(self, device: str = "cpu", threads: int | None = None) -> None:
        self.device = device
        self._rng = np.random.default_rng(0)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        yield

    def sync(self) -> None:
        return None

    def release(self) -> None:
        gc.collect()

    def _randn(self, *shape: int) -> Any:
        return self._rng.standard_normal(shape, dtype=F32)

    def gemm(self, n: int, dtype: str) -> Call:
        a, b = self._randn(n, n), self._randn(n, n)
        return lambda i: a @ b

    def stream(self, nbytes: int) -> list[tuple[str, Call, float]]:
        """read via a GEMV (1×), copy (2×), a = b + c (3×: numpy has no one-pass triad)."""
        n = max(1024, nbytes // 4 // 1024 * 1024)
        x, y, z = np.ones(n, F32), np.zeros(n, F32), np.full(n, 0.5, F32)
        matrix, ones = x.reshape(-1, 1024), np.ones(1024, F32)
        return [
            ("read", lambda i: matrix @ ones, 4.0 * n),
            ("copy", lambda i: np.copyto(y, x), 8.0 * n),
            ("triad", lambda i: np.add(x, z, out=y), 12.0 * n),
        ]

    def weights(self, d_in: int, d_out: int, dtype: str, copies: int) -> list[Any]:
        first = self._randn(d_out, d_in) * F32(0.02)
        return [first] + [first.copy() for _ in range(copies - 1)]

    def linear(self, weights: list[Any], tokens: int) -> Call:
        x = self._randn(tokens, weights[0].shape[1])
        n = len(weights)
        return lambda i: x @ weights[i % n].T

    def attention(
        self, plan: AttentionPlan, dtype: str, batch: int, queries: int, keys: int, copies: int = 1
    ) -> Call:
        nq, nkv, hd = plan.heads, plan.kv_heads, plan.head_dim
        q = self._randn(batch, nkv, nq // nkv * queries, hd)
        first = self._randn(2, batch, nkv, keys, hd)
        kv = [first] + [first.copy() for _ in range(copies - 1)]
        return lambda i: _attention(q, kv[i % copies][0], kv[i % copies][1], causal=queries > 1)

    def elementwise(self, family: str, tokens: int, dims: tuple[int, int], dtype: str) -> Call:
        d, inter = dims
        if family == "norm":
            x, w = self._randn(1, tokens, d), self._randn(d)
            return lambda i: _rms_norm(x, w)
        if family == "rotary":
            hd = 64 if d >= 1024 else 32
            nq, nkv = d // hd, max(1, d // hd // 4)
            q, k = self._randn(1, nq, tokens, hd), self._randn(1, nkv, tokens, hd)
            cos, sin = self._randn(tokens, hd), self._randn(tokens, hd)
            return lambda i: (_rope(q, cos, sin), _rope(k, cos, sin))
        if family == "act_fn":
            g, u = self._randn(1, tokens, inter), self._randn(1, tokens, inter)
            return lambda i: g / (1.0 + np.exp(-g)) * u
        if family == "residual":
            a, b = self._randn(1, tokens, d), self._randn(1, tokens, d)
            return lambda i: a + b
        if family == "layernorm":
            x, w, b = self._randn(1, tokens, d), self._randn(d), self._randn(d)
            return lambda i: (
                (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-5) * w + b
            )
        if family in ("act_gelu_new", "act_gelu_tanh", "act_gelu"):  # numpy has no erf: tanh form
            x = self._randn(1, tokens, inter)
            return lambda i: 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))
        if family == "act_relu":
            x = self._randn(1, tokens, inter)
            return lambda i: np.maximum(x, 0.0)
        raise ValueError(f"unknown element-wise family {family!r}")

    def decoder_step(self, m: Model, dtype: str) -> Call | None:
        return None  # no reference decoder without torch


def numpy_info() -> dict[str, Any]:
    return {"numpy": np.__version__, "device": "cpu"}
