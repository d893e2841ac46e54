"""The torch kernels ``measure`` times, on a CPU or a CUDA device (imported only when used).

Every factory returns ``call(i)``: one run of the kernel, the i-th of its series (weights
rotate on i). Nothing here synchronizes or times; ``timer.median_time_s`` does, with
``sync`` (``torch.cuda.synchronize`` on CUDA, nothing on the CPU).
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F  # torch's own convention

from ..inputs.model import Model
from .plan import AttentionPlan
from .reference_model import build_decoder
from .torch_blocks import apply_rope, attend, rms_norm, rope_tables, swiglu

Call = Callable[[int], object]


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    """transformers' NewGELUActivation (GPT-2, Phi-2 "gelu_new"), as it runs: the tanh
    approximation written out in torch, several kernels (pow, mul, add, tanh, ...)."""
    return (
        0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    )


PLAIN_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "act_gelu_new": gelu_new,
    "act_gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),  # gelu_pytorch_tanh
    "act_gelu": F.gelu,
    "act_relu": F.relu,  # OPT
}
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class TorchBackend:
    name = "torch"

    def __init__(self, device: str, threads: int | None = None) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.is_cuda = self.device.type == "cuda"

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        with torch.inference_mode():
            yield

    def sync(self) -> None:
        if self.is_cuda:
            torch.cuda.synchronize(self.device)

    def release(self) -> None:
        gc.collect()
        if self.is_cuda:
            torch.cuda.empty_cache()

    def _randn(self, *shape: int, dtype: str = "fp32") -> torch.Tensor:
        return torch.randn(*shape, dtype=TORCH_DTYPES[dtype], device=self.device)

    def gemm(self, n: int, dtype: str) -> Call:
        """(n, n) @ (n, n)."""
        a, b = self._randn(n, n, dtype=dtype), self._randn(n, n, dtype=dtype)
        return lambda i: torch.mm(a, b)

    def stream(self, nbytes: int) -> list[tuple[str, Call, float]]:
        """STREAM-style fp32 kernels: (name, call, bytes counted) — read 1×, copy 2×, triad 3×."""
        n = max(1024, nbytes // 4 // 1024 * 1024)
        x = torch.ones(n, device=self.device)
        y, z = torch.zeros_like(x), torch.full_like(x, 0.5)
        matrix, ones = x.view(-1, 1024), torch.ones(1024, device=self.device)
        return [
            ("read", lambda i: torch.mv(matrix, ones), 4.0 * n),  # every element read once
            ("copy", lambda i: y.copy_(x), 8.0 * n),
            ("triad", lambda i: torch.add(x, z, alpha=3.0, out=y), 12.0 * n),
        ]

    def weights(self, d_in: int, d_out: int, dtype: str, copies: int) -> list[torch.Tensor]:
        """``copies`` distinct (d_out, d_in) weights (nn.Linear layout)."""
        first = self._randn(d_out, d_in, dtype=dtype).mul_(0.02)
        return [first] + [first.clone() for _ in range(copies - 1)]

    def linear(self, weights: list[torch.Tensor], tokens: int) -> Call:
        """(tokens, d_in) @ (d_in, d_out), the i-th call on the (i mod copies)-th weight."""
        w0 = weights[0]
        x = torch.randn(tokens, w0.shape[1], dtype=w0.dtype, device=self.device)
        n = len(weights)
        return lambda i: torch.nn.functional.linear(x, weights[i % n])

    def attention(
        self, plan: AttentionPlan, dtype: str, batch: int, queries: int, keys: int, copies: int = 1
    ) -> Call:
        """The reference model's ``attend``: ``queries`` new tokens, ``keys`` in all; call i
        uses KV cache copy i mod ``copies``."""
        nq, nkv, hd = plan.heads, plan.kv_heads, plan.head_dim
        start = keys - queries
        q = self._randn(batch, queries, nq, hd, dtype=dtype).transpose(1, 2)
        k = self._randn(batch, queries, nkv, hd, dtype=dtype).transpose(1, 2)
        v = self._randn(batch, queries, nkv, hd, dtype=dtype).transpose(1, 2)
        first = self._randn(2, batch, nkv, keys, hd, dtype=dtype)
        caches = [first] + [first.clone() for _ in range(copies - 1)]
        return lambda i: attend(q, k, v, caches[i % copies][0], caches[i % copies][1], start)

    def elementwise(self, family: str, tokens: int, dims: tuple[int, int], dtype: str) -> Call:
        """One element-wise kernel of the reference model over ``tokens`` rows."""
        d, inter = dims
        if family == "norm":
            x, w = self._randn(1, tokens, d, dtype=dtype), self._randn(d, dtype=dtype)
            return lambda i: rms_norm(x, w, 1e-5)
        if family == "rotary":
            hd = 64 if d >= 1024 else 32
            nq, nkv = d // hd, max(1, d // hd // 4)
            q = self._randn(1, tokens, nq, hd, dtype=dtype).transpose(1, 2)
            k = self._randn(1, tokens, nkv, hd, dtype=dtype).transpose(1, 2)
            cos, sin = rope_tables(tokens, hd, 1e4, TORCH_DTYPES[dtype], self.device)
            return lambda i: (apply_rope(q, cos, sin), apply_rope(k, cos, sin))
        if family == "act_fn":
            g, u = (
                self._randn(1, tokens, inter, dtype=dtype),
                self._randn(1, tokens, inter, dtype=dtype),
            )
            return lambda i: swiglu(g, u)
        if family == "residual":
            a, b = self._randn(1, tokens, d, dtype=dtype), self._randn(1, tokens, d, dtype=dtype)
            return lambda i: a + b
        if family == "layernorm":  # nn.LayerNorm: scale and bias (GPT-2, OPT, Phi-2)
            x, w = self._randn(1, tokens, d, dtype=dtype), self._randn(d, dtype=dtype)
            b = self._randn(d, dtype=dtype)
            return lambda i: F.layer_norm(x, (d,), w, b, 1e-5)
        if family in PLAIN_ACTIVATIONS:  # a plain MLP's activation over (T, I)
            x, act = self._randn(1, tokens, inter, dtype=dtype), PLAIN_ACTIVATIONS[family]
            return lambda i: act(x)
        raise ValueError(f"unknown element-wise family {family!r}")

    def decoder_step(self, m: Model, dtype: str) -> Call | None:
        """One decode step (batch 1, 8 tokens cached) of the reference model built from ``m``."""
        model = build_decoder(m, batch=1, max_len=16, dtype=TORCH_DTYPES[dtype], device=self.device)
        tokens = torch.zeros(1, 1, dtype=torch.long, device=self.device)
        return lambda i: model(tokens, 8)


def torch_info(device: str) -> dict[str, Any]:
    """What the profile's ``machine`` records about torch and the device."""
    info: dict[str, Any] = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info["device"] = props.name
        info["device_memory_bytes"] = int(props.total_memory)
        info["cuda"] = torch.version.cuda
    else:
        info["device"] = "cpu"
    return info


def cuda_capabilities() -> tuple[bool, bool]:
    """(cuda available, bf16 supported) as torch reports them."""
    available = torch.cuda.is_available()
    return available, bool(available and torch.cuda.is_bf16_supported())
