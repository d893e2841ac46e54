"""Operators a framework adds around the model's own: Hugging Face transformers.

Present only in a pass whose ``framework_cache`` is set, i.e. under the engines
``transformers`` (its default ``DynamicCache``) and ``transformers-static``
(``StaticCache``) of ``inputs/workload.FRAMEWORK_CACHES``; every other engine's operator
list is unchanged. Per layer:

- ``kv_cache_copy`` (dynamic cache only): ``DynamicLayer.update`` runs
  ``torch.cat([keys, new_keys], dim=-2)`` (and the same for values), so every forward
  pass reads the layer's whole cache and writes it again, one token longer, into a new
  tensor. Per layer, with C cached tokens kept (a sliding layer: at most its window) and
  T new ones per sequence: reads B·(C+T)·e and writes B·(C+T)·e KV elements,
  e = ``kv_elements_per_token_per_layer`` (2·n_kv·hd; MLA: the latent), in the KV
  dtype: 2·B·(C+T)·e·b bytes. A static cache writes the new tokens in place
  (``index_copy_``), which k_proj/v_proj already count: no copy operator. Source:
  transformers 5.24 ``cache_utils.DynamicLayer.update``; the measured cost is in
  docs/VALIDATION.md.
- ``framework_layer``: the host time transformers spends per decoder layer outside the
  kernels (module calls, cache bookkeeping, mask and position handling), no FLOPs and no
  bytes: its expected time is the fixed time of the table's ``framework_layer`` entry,
  measured through transformers itself (``measure/hf_overhead.py``); its ideal time is 0.

Per pass: ``framework_step`` (the fixed time outside the layers: embedding, mask,
output bookkeeping), priced the same way from the ``framework_step`` entry.
"""

from __future__ import annotations

from ..inputs import xp
from ..inputs.model import Model
from .ops import ELEMENTWISE, OpCost, Pass

DYNAMIC = "dynamic"
CACHE_COPY = "cache_copy"
FRAMEWORK_LAYER = "framework_layer"
FRAMEWORK_STEP = "framework_step"
FAMILIES = (CACHE_COPY, FRAMEWORK_LAYER, FRAMEWORK_STEP)


def cache_copy(m: Model, p: Pass, window: int | None) -> OpCost:
    """DynamicCache's concatenation of one layer: 2·B·(C+T)·e·b bytes (module docstring)."""
    kept = p.past if window is None else xp.minimum(p.past, window)
    moved = 2 * p.batch * (kept + p.new) * m.kv_elements_per_token_per_layer * p.kv_bytes
    return OpCost(
        "kv_cache_copy",
        ELEMENTWISE,
        flops=0.0,
        kv_bytes=moved,
        family=CACHE_COPY,
        live_bytes=moved,  # the old and the new tensor of one layer, both alive
    )


def fixed(name: str) -> OpCost:
    """A fixed host time and nothing else: its expected time is its family's fixed time."""
    return OpCost(name, ELEMENTWISE, flops=0.0, family=name)


def layer_ops(m: Model, p: Pass, window: int | None) -> tuple[OpCost, ...]:
    """The framework's operators of one layer ((): no framework in this pass)."""
    if not p.framework_cache:
        return ()
    copy = (cache_copy(m, p, window),) if p.framework_cache == DYNAMIC else ()
    return (*copy, fixed(FRAMEWORK_LAYER))


def pass_ops(p: Pass) -> tuple[OpCost, ...]:
    """The framework's operators of one pass outside the layers."""
    return (fixed(FRAMEWORK_STEP),) if p.framework_cache else ()
