"""The request sum's premise: within a region (between window edges) every field of a
decode step's operators is affine in the context, so the operators at any context are the
line through the region's two ends (the ideal sum's closed form, request._op_lines, sums
those lines), for every preset."""

from __future__ import annotations

import numpy as np
import pytest

from llm_roofline import Layout, Workload
from llm_roofline.catalog.model_catalog import get_model, list_models
from llm_roofline.engine.ops import decode_pass
from llm_roofline.engine.sharding import ONE_DEVICE, stage_operators

FIELDS = ("flops", "weight_bytes", "activation_bytes", "kv_bytes", "live_bytes")


def _line(a: object, b: object, lo: int, hi: int, xs: np.ndarray) -> np.ndarray:
    """At each x of ``xs``: the line through (lo, a) and (hi, b)."""
    return np.asarray(a, dtype=float) + (np.asarray(b, dtype=float) - a) * (xs - lo) / (hi - lo)


def _regions(windows: set[int]) -> list[tuple[int, int]]:
    """Context regions that no window edge (W or W + 1) splits."""
    edges = {e for w in windows for e in (w, w + 1)}
    candidates = [(1, 60), (300, 3000), (5000, 40000)]
    candidates += [(max(1, w - 400), w - 1) for w in windows] + [(w + 1, w + 2000) for w in windows]
    return [(lo, hi) for lo, hi in candidates if not any(lo < e <= hi for e in edges)]


@pytest.mark.parametrize("name", [e.alias for e in list_models()])
def test_operators_are_affine_in_the_context_within_a_region(name: str) -> None:
    m = get_model(name)
    windows = {g.window for g in m.layer_groups if g.window is not None}
    layouts = [ONE_DEVICE]
    if m.num_key_value_heads % 2 == 0 and m.num_attention_heads % 2 == 0:
        layouts.append(Layout(tensor=2))
    for attention in ("flash", "eager"):
        w = Workload(batch_size=3, prompt_len=64, attention=attention)
        for layout in layouts:
            for lo, hi in _regions(windows):
                xs = np.array([lo, lo + (hi - lo) // 3, hi - 1, hi])
                a = stage_operators(m, layout, decode_pass(w, context=lo))
                b = stage_operators(m, layout, decode_pass(w, context=hi))
                built = stage_operators(m, layout, decode_pass(w, context=xs))
                for op_a, op_b, op_x in zip(a, b, built, strict=True):
                    pairs = [(getattr(op_a, f), getattr(op_b, f), getattr(op_x, f)) for f in FIELDS]
                    pairs += list(zip(op_a.shape, op_b.shape, op_x.shape, strict=True))
                    for at_lo, at_hi, at_x in pairs:
                        want = np.broadcast_to(at_x, xs.shape)
                        got = _line(at_lo, at_hi, lo, hi, xs)
                        assert np.allclose(got, want, rtol=1e-12, atol=0), (name, op_a.name)
