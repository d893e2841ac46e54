"""The reference model's kernels as plain functions (torch imported by the caller's import).

These are the exact functions ``validate.model`` runs, so ``llm-roofline measure`` times
the same code paths it later predicts. Shapes: B batch, T new tokens, C cached tokens,
nq query heads, nkv key/value heads, hd head dim, d hidden, I intermediate.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over the last dim of (…, d) with a (d,) scale: one fused torch kernel."""
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


def rope_tables(
    positions: int, head_dim: int, theta: float, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of shape (positions, hd), the Llama/HF "rotate half" layout."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim)
    angles = torch.outer(torch.arange(positions, device=device).float(), inv_freq)
    emb = torch.cat((angles, angles), dim=-1)  # (positions, hd)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, T, hd) rotated by cos/sin (T, hd): x·cos + rotate_half(x)·sin."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def swiglu(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """SiLU(gate)·up over (B, T, I)."""
    return F.silu(gate) * up


@functools.cache
def _has_enable_gqa() -> bool:
    """Whether this torch's SDPA takes ``enable_gqa`` (torch >= 2.5)."""
    q = torch.zeros(1, 2, 1, 2)
    kv = torch.zeros(1, 1, 1, 2)
    try:
        F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
    except (TypeError, RuntimeError):
        return False
    return True


def _sdpa_gqa(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, is_causal: bool, mask: torch.Tensor | None
) -> torch.Tensor:
    """SDPA of (B, nq, T, hd) against (B, nkv, S, hd), K/V shared by groups of query heads."""
    group = q.shape[1] // k.shape[1]
    if group > 1 and not _has_enable_gqa():
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=is_causal, enable_gqa=group > 1
    )


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    start: int,
) -> torch.Tensor:
    """Write the new K/V at [start, start+T) of the preallocated cache, then attend.

    q (B, nq, T, hd); k, v (B, nkv, T, hd); caches (B_max, nkv, S_max, hd). Returns
    (B, nq, T, hd). Decode (T = 1) folds each group of query heads into the query axis,
    (B, nkv, nq/nkv, hd), so K/V are read once per KV head; prefill from an empty cache
    attends to the fresh K/V with a causal mask; a chunk after a prefix uses an explicit
    bottom-right causal mask.
    """
    b, nq, t, hd = q.shape
    nkv = k.shape[1]
    end = start + t
    k_cache[:b, :, start:end] = k
    v_cache[:b, :, start:end] = v
    if start == 0:
        return _sdpa_gqa(q, k, v, is_causal=t > 1, mask=None)
    keys, values = k_cache[:b, :, :end], v_cache[:b, :, :end]
    if t == 1:
        grouped = q.reshape(b, nkv, nq // nkv, hd)
        out = F.scaled_dot_product_attention(grouped, keys, values)
        return out.reshape(b, nq, 1, hd)
    rows = torch.arange(start, end, device=q.device)[:, None]
    mask = torch.arange(end, device=q.device)[None, :] <= rows  # (T, start+T), True = keep
    return _sdpa_gqa(q, keys, values, is_causal=False, mask=mask)
