"""transformers' own costs, measured through transformers (torch and transformers only).

Two probes per dtype, run by ``measure`` when transformers is importable:

- **framework steps**: a tiny model (d = 64, 4 heads, I = 128, vocabulary 256) of each
  architecture in ``ARCHITECTURES``, built from the catalog's real config.json with the
  widths shrunk (``hf_models.hf_config``), stepped through ``model(...)`` exactly as
  ``validate --backend transformers`` steps it: one decode token at batch 1 on a
  ``DynamicCache`` of ``CONTEXT`` tokens, cropped back after every step. Steps at
  ``DEPTHS`` layers give a per-layer slope and a fixed part per step; ``framework_fit``
  (``hf_engine.py``) subtracts what the measured kernel table predicts for the same tiny
  model and keeps the rest as transformers' host time per layer and per step.
- **cache copy**: ``torch.cat`` of a (B, h, C, hd) cache with one new token, K and V, as
  ``DynamicLayer.update`` does every step, at C = ``COPY_CONTEXTS``; the caches rotate
  over copies adding up to the plan's rotation size, so each call reads from DRAM as in a
  model whose other layers evict the cache.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

ARCHITECTURES = (
    "openai-community/gpt2",  # learned positions, MHA, GELU (gelu_new), LayerNorm, Conv1D
    "microsoft/phi-2",  # parallel attention and MLP, partial rotary, biases
    "facebook/opt-1.3b",  # learned positions with offset, ReLU, LayerNorm
    "HuggingFaceTB/SmolLM2-360M",  # Llama: GQA, RMSNorm, SwiGLU
)
TINY = dict(hidden=64, heads=4, kv_heads=2, intermediate=128, vocab=256)
DEPTHS = (1, 5)
CONTEXT = 8
COPY_SHAPE = (4, 8, 64)  # batch, KV heads, head_dim of the cache-copy probe
COPY_CONTEXTS = (16, 64, 256, 1024, 4096)

Time = Callable[[Callable[[int], object]], float]  # a timer: call -> seconds


@dataclass
class FrameworkRun:
    dtype: str
    steps_s: dict[str, list[float]] = field(default_factory=dict)  # arch -> at DEPTHS
    copy_contexts: list[int] = field(default_factory=list)
    copy_s: list[float] = field(default_factory=list)


def catalog_config(repo_id: str) -> dict[str, Any]:
    """The catalog's copy of a model's config.json, parsed."""
    path = resources.files("llm_roofline.catalog") / "data" / "models" / repo_id / "config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{repo_id}/config.json: expected a JSON object")
    return data


def zero_cache(config: Any, batch: int, context: int, dtype: Any, device: str) -> Any:
    """A DynamicCache holding ``context`` zero tokens in every layer of ``config``."""
    import torch

    from .hf_models import import_transformers, kv_shape

    cache = import_transformers().DynamicCache()
    kv, hd = kv_shape(config)
    for layer in range(config.num_hidden_layers):
        zeros = torch.zeros((batch, kv, context, hd), dtype=dtype, device=device)
        cache.update(zeros, zeros.clone(), layer)
    return cache


def crop_to(cache: Any, length: int) -> None:
    """Drop the tokens past ``length`` (crop(length) before transformers 5, crop(-n) since)."""
    extra = int(cache.get_seq_length()) - length
    if extra <= 0:
        return
    try:
        cache.crop(-extra)
    except (ValueError, TypeError):
        cache.crop(length)


def cache_keyword(model: Any) -> str:
    """The forward argument that takes a KV cache (``cache`` in recent transformers)."""
    import inspect

    names = inspect.signature(model.forward).parameters
    return "cache" if "cache" in names else "past_key_values"


def decode_step(
    model: Any, config: Any, batch: int, context: int, device: str
) -> Callable[[int], object]:
    """One decode step at ``context`` cached tokens, the cache cropped back after it."""
    import torch

    dtype = next(model.parameters()).dtype
    cache = zero_cache(config, batch, context, dtype, device)
    ids = torch.zeros((batch, 1), dtype=torch.long, device=device)
    positions = torch.full((batch, 1), context, device=device)
    keyword = cache_keyword(model)

    def step(i: int) -> object:
        out = model(input_ids=ids, position_ids=positions, use_cache=True, logits_to_keep=1,
                    **{keyword: cache})  # fmt: skip
        crop_to(cache, context)
        return out

    return step


def framework_run(dtype: str, device: str, time: Time, rotation_bytes: int) -> FrameworkRun:
    """Both probes for one dtype (module docstring)."""
    import torch

    from .hf_models import build, hf_config
    from .torch_backend import TORCH_DTYPES

    run = FrameworkRun(dtype)
    torch_dtype = TORCH_DTYPES[dtype]
    with torch.inference_mode():
        for arch in ARCHITECTURES:
            raw = catalog_config(arch)
            times = []
            for layers in DEPTHS:
                config = hf_config(raw, layers=layers, **TINY)
                model = build(config, torch_dtype, device)
                times.append(time(decode_step(model, config, 1, CONTEXT, device)))
                del model
            run.steps_s[arch] = times
        batch, heads, hd = COPY_SHAPE
        for context in COPY_CONTEXTS:
            nbytes = 2 * batch * heads * context * hd * torch_dtype.itemsize
            copies = max(1, min(64, math.ceil(rotation_bytes / nbytes)))
            caches = [torch.zeros((2, batch, heads, context, hd), dtype=torch_dtype, device=device)
                      for _ in range(copies)]  # fmt: skip
            new = torch.zeros((batch, heads, 1, hd), dtype=torch_dtype, device=device)

            def copy(i: int, caches: list[Any] = caches, new: Any = new) -> object:
                kv = caches[i % len(caches)]
                return torch.cat([kv[0], new], dim=-2), torch.cat([kv[1], new], dim=-2)

            run.copy_contexts.append(context)
            run.copy_s.append(time(copy))
            del caches
    return run


def transformers_available() -> bool:
    try:
        import transformers  # noqa: F401  # only probing whether it is installed
    except ImportError:
        return False
    return True


def framework_wanted(framework: str, backend: str) -> bool:
    """Whether ``measure`` runs these probes: ``framework`` auto (when transformers is
    importable, torch backend), transformers (required) or none."""
    if framework not in ("auto", "transformers", "none"):
        raise ValueError(f"framework must be auto, transformers or none; got {framework!r}")
    if framework == "none":
        return False
    ok = backend == "torch" and transformers_available()
    if framework == "transformers" and not ok:
        raise ValueError(
            "framework 'transformers' needs the torch backend and the transformers package "
            "(pip install 'llm-roofline[torch,hf]')"
        )
    return ok
