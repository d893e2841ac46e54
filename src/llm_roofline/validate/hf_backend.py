"""The same timing points through Hugging Face ``transformers`` (optional; never downloads).

The model users run: for a catalog model, ``AutoConfig.for_model(model_type, **config)``
of the catalog's real config.json (``measure/hf_models.py``: GPT-2, Phi-2, OPT, Llama,
... each with its own modules), with ``num_hidden_layers`` set to the ``Model``'s (a
model truncated to fewer layers keeps every width). Any other Llama-family ``Model``: a
``LlamaConfig`` (``Qwen2Config`` with q/k/v biases) built from its shape with the
reference model's rotary base and norm epsilon: given the same weights it computes the
same logits as ``validate.model`` (tested). Random weights (``from_config``), SDPA
attention. Decode points start from a ``DynamicCache`` filled with C zero tokens per layer
and crop it back to C after every step, so each timed step runs at context C (and pays the
cache's concatenation, as generate() does). transformers is optional: everything here is
imported only when this backend is asked for; a missing install is one error line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..inputs.model import Model
from ..measure.hf_overhead import cache_keyword  # noqa: F401  # part of this module's API
from .points import Point, Step, TimingOptions


def _import() -> Any:
    try:
        import transformers  # optional: the hf extra
    except ImportError:
        raise ValueError(
            "backend 'transformers' needs the transformers package (pip install transformers); "
            "use --backend ours otherwise"
        ) from None
    return transformers


def hf_config(m: Model) -> Any:
    """A transformers config with the shape of ``m`` (no weights, no download)."""
    from ..measure.reference_model import NORM_EPS, ROPE_THETA, check_supported  # torch

    check_supported(m)
    tf = _import()
    common = dict(
        vocab_size=m.vocab_size,
        hidden_size=m.hidden_size,
        intermediate_size=m.intermediate_size,
        num_hidden_layers=m.num_layers,
        num_attention_heads=m.num_attention_heads,
        num_key_value_heads=m.num_key_value_heads,
        max_position_embeddings=m.max_position_embeddings or 32768,
        tie_word_embeddings=m.tie_word_embeddings,
        rms_norm_eps=NORM_EPS,
    )
    if m.qkv_bias:  # Qwen2 is the Llama layout with q/k/v biases
        config = tf.Qwen2Config(**common)
    else:
        config = tf.LlamaConfig(**common, attention_bias=False, mlp_bias=False)
    config.head_dim = m.head_dim
    if isinstance(getattr(config, "rope_parameters", None), dict):  # transformers >= 5
        config.rope_parameters = {"rope_type": "default", "rope_theta": ROPE_THETA}
    else:
        config.rope_theta = ROPE_THETA
    return config


def model_config(m: Model) -> Any:
    """The config this backend builds ``m`` from: the catalog's config.json with ``m``'s
    layer count when ``m`` is a catalog model, else ``hf_config(m)`` (Llama family)."""
    from ..catalog.model_catalog import find_entry
    from ..measure.hf_models import hf_config as config_from_file
    from ..measure.hf_overhead import catalog_config

    entry = find_entry(m.name)
    if entry is None:
        return hf_config(m)
    return config_from_file(catalog_config(entry.repo_id), layers=m.num_layers)


def build_hf_model(m: Model, dtype: str, device: str) -> Any:
    """The transformers model of ``m`` with random weights, in eval mode, built outside
    inference mode (``measure/hf_models.build``)."""
    from ..measure.hf_models import build
    from ..measure.torch_backend import TORCH_DTYPES

    return build(model_config(m), TORCH_DTYPES[dtype], device)


def _prefill_step(model: Any, ids: Any) -> Step:
    def step(i: int) -> object:
        return model(input_ids=ids, use_cache=True, logits_to_keep=1)

    return step


def hf_steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    import torch

    from ..measure.hf_overhead import decode_step

    torch.manual_seed(opts.seed)
    model = build_hf_model(m, dtype, opts.device)
    for p in points:
        if p.phase == "prefill":
            ids = torch.randint(0, m.vocab_size, (p.batch, p.tokens), device=opts.device)
            yield p, _prefill_step(model, ids)
            continue
        yield p, decode_step(model, model.config, p.batch, p.tokens, opts.device)
