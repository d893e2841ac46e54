"""A compact Llama-family decoder in PyTorch, built from a ``Model`` with random weights.

RMSNorm, rotary embeddings, grouped-query attention through
``scaled_dot_product_attention``, a SwiGLU MLP, optional q/k/v biases (Qwen2) and tied
embeddings; a preallocated KV cache; logits for the last position of each sequence only
(``logits="last"`` in the workload). It exists to be timed against the roofline model, so
it runs the same operators ``engine.sharding.forward_operators`` counts, in that order.
"""

from __future__ import annotations

import torch
from torch import nn

from ..inputs.model import Model
from .torch_blocks import apply_rope, attend, rms_norm, rope_tables, swiglu

ROPE_THETA = 500_000.0  # any value: the cost does not depend on it
NORM_EPS = 1e-5


def check_supported(m: Model) -> None:
    """Raise ValueError naming the feature when ``m`` is not a plain Llama-family decoder."""
    unsupported = {
        "moe": m.moe is not None,
        "mla": m.mla is not None,
        "layernorm": m.norm != "rmsnorm",
        "plain (non-gated) MLP": not m.gated_mlp,
        "norms_per_layer != 2": m.norms_per_layer != 2,
        "parallel attention": m.parallel_attention,
        "learned position embeddings": bool(m.position_embeddings),
        "ALiBi": m.alibi,
        "sliding window": m.sliding_window is not None,
        "attention sinks": m.attention_sinks,
        "o_proj/MLP/lm_head biases": m.o_bias or m.mlp_bias or m.lm_head_bias,
        "qk_norm": m.qk_norm,
    }
    found = [name for name, present in unsupported.items() if present]
    if found:
        raise ValueError(
            f"model {m.name!r} has {', '.join(found)}: the reference model runs Llama-family "
            "decoders only (RMSNorm, RoPE, GQA, SwiGLU; optional q/k/v biases)"
        )


class Layer(nn.Module):
    """One decoder layer with its slice of the KV cache."""

    k_cache: torch.Tensor  # (B_max, nkv, S_max, hd) buffers
    v_cache: torch.Tensor

    def __init__(self, m: Model, batch: int, max_len: int, dtype: torch.dtype) -> None:
        super().__init__()
        d, hd = m.hidden_size, m.head_dim
        self.nq, self.nkv, self.hd = m.num_attention_heads, m.num_key_value_heads, hd
        self.input_layernorm = nn.Parameter(torch.ones(d, dtype=dtype))
        self.q_proj = nn.Linear(d, m.q_dim, bias=m.qkv_bias, dtype=dtype)
        self.k_proj = nn.Linear(d, m.kv_dim, bias=m.qkv_bias, dtype=dtype)
        self.v_proj = nn.Linear(d, m.kv_dim, bias=m.qkv_bias, dtype=dtype)
        self.o_proj = nn.Linear(m.q_dim, d, bias=False, dtype=dtype)
        self.post_attention_layernorm = nn.Parameter(torch.ones(d, dtype=dtype))
        self.gate_proj = nn.Linear(d, m.intermediate_size, bias=False, dtype=dtype)
        self.up_proj = nn.Linear(d, m.intermediate_size, bias=False, dtype=dtype)
        self.down_proj = nn.Linear(m.intermediate_size, d, bias=False, dtype=dtype)
        shape = (batch, self.nkv, max_len, hd)
        self.register_buffer("k_cache", torch.zeros(shape, dtype=dtype), persistent=False)
        self.register_buffer("v_cache", torch.zeros(shape, dtype=dtype), persistent=False)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, start: int
    ) -> torch.Tensor:
        b, t, _ = x.shape  # x (B, T, d)
        h = rms_norm(x, self.input_layernorm, NORM_EPS)
        q = self.q_proj(h).view(b, t, self.nq, self.hd).transpose(1, 2)  # (B, nq, T, hd)
        k = self.k_proj(h).view(b, t, self.nkv, self.hd).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(h).view(b, t, self.nkv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out = attend(q, k, v, self.k_cache, self.v_cache, start)  # (B, nq, T, hd)
        x = x + self.o_proj(out.transpose(1, 2).reshape(b, t, self.nq * self.hd))
        h = rms_norm(x, self.post_attention_layernorm, NORM_EPS)
        y: torch.Tensor = x + self.down_proj(swiglu(self.gate_proj(h), self.up_proj(h)))
        return y


class Decoder(nn.Module):
    """The whole model: embed, layers, final norm, lm_head on the last position."""

    cos: torch.Tensor  # (max_len, hd) rotary tables
    sin: torch.Tensor

    def __init__(self, m: Model, batch: int, max_len: int, dtype: torch.dtype) -> None:
        super().__init__()
        check_supported(m)
        self.max_batch, self.max_len = batch, max_len
        self.embed_tokens = nn.Embedding(m.vocab_size, m.hidden_size, dtype=dtype)
        layers = [Layer(m, batch, max_len, dtype) for _ in range(m.num_layers)]
        self.layers = nn.ModuleList(layers)
        self.decoder_layers = layers  # a typed view of the same modules
        self.final_norm = nn.Parameter(torch.ones(m.hidden_size, dtype=dtype))
        self.lm_head = (
            None
            if m.tie_word_embeddings
            else nn.Linear(m.hidden_size, m.vocab_size, bias=False, dtype=dtype)
        )
        # (max_len, hd) rotary tables, filled by build_decoder.
        self.register_buffer("cos", torch.empty(max_len, m.head_dim, dtype=dtype), persistent=False)
        self.register_buffer("sin", torch.empty(max_len, m.head_dim, dtype=dtype), persistent=False)

    def forward(self, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        """tokens (B, T) at positions [start, start+T) -> logits (B, V) of the last position."""
        b, t = tokens.shape
        if b > self.max_batch or start + t > self.max_len:
            raise ValueError(
                f"batch {b} x positions {start}+{t} exceed the cache "
                f"({self.max_batch} x {self.max_len})"
            )
        x = self.embed_tokens(tokens)  # (B, T, d)
        cos, sin = self.cos[start : start + t], self.sin[start : start + t]
        for layer in self.decoder_layers:
            x = layer(x, cos, sin, start)
        last = rms_norm(x[:, -1], self.final_norm, NORM_EPS)  # (B, d)
        weight = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return last @ weight.t()  # (B, d) @ (d, V)


def build_decoder(
    m: Model,
    *,
    batch: int,
    max_len: int,
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> Decoder:
    """A Decoder with random weights (uniform, ±0.02), caches zeroed, in eval mode.

    Built on the meta device and materialized once on ``device``: no default init pass
    over a billion parameters, no download.
    """
    with torch.device("meta"):
        model = Decoder(m, batch, max_len, dtype)
    model = model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    cos, sin = rope_tables(max_len, m.head_dim, ROPE_THETA, dtype, torch.device(device))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm"):
                p.fill_(1.0)
            else:
                p.uniform_(-0.02, 0.02, generator=generator)
        for layer in model.decoder_layers:
            layer.k_cache.zero_()
            layer.v_cache.zero_()
        model.cos.copy_(cos)
        model.sin.copy_(sin)
    return model.eval()
