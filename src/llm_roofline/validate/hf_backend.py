"""The same timing points through Hugging Face ``transformers`` (optional; never downloads).

A ``LlamaConfig`` (``Qwen2Config`` when the model has q/k/v biases) is built from the
``Model`` with the reference model's rotary base and norm epsilon, and instantiated with
random weights (``from_config``), SDPA attention: given the same weights it computes the
same logits as ``validate.model`` (tested). Decode points start from a ``DynamicCache``
filled with C zero tokens per layer and crop it back to C after every step, so each timed
step runs at context C. transformers is optional: everything here is imported only when
this backend is asked for, and a missing install is reported as one error line.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from typing import Any

from ..inputs.model import Model
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


def cache_keyword(model: Any) -> str:
    """The forward argument that takes a KV cache: ``cache`` in recent transformers
    (``past_key_values`` is deprecated there), ``past_key_values`` before."""
    names = inspect.signature(model.forward).parameters
    return "cache" if "cache" in names else "past_key_values"


def build_hf_model(m: Model, dtype: str, device: str) -> Any:
    """The transformers model of ``m`` with random weights, in eval mode.

    Built outside inference mode, as users build it, even when called inside it: built
    inside, the tied lm_head of a bf16 Qwen2.5-0.5B ran as a bmm that first copied the
    whole (d, V) weight, 1.0 s of a 1.1 s prefill that takes 0.3 s built normally.
    """
    import torch

    from ..measure.torch_backend import TORCH_DTYPES

    tf = _import()
    with torch.inference_mode(False):
        model = tf.AutoModelForCausalLM.from_config(hf_config(m), attn_implementation="sdpa")
        return model.to(device=device, dtype=TORCH_DTYPES[dtype]).eval()


def _zero_cache(tf: Any, m: Model, batch: int, context: int, dtype: Any, device: str) -> Any:
    import torch

    cache = tf.DynamicCache()
    shape = (batch, m.num_key_value_heads, context, m.head_dim)
    for layer in range(m.num_layers):
        zeros = torch.zeros(shape, dtype=dtype, device=device)
        cache.update(zeros, zeros.clone(), layer)
    return cache


def _crop_to(cache: Any, length: int) -> None:
    """Drop the tokens past ``length`` (crop(length) before transformers 5, crop(-n) since)."""
    extra = int(cache.get_seq_length()) - length
    if extra <= 0:
        return
    try:
        cache.crop(-extra)
    except (ValueError, TypeError):
        cache.crop(length)


def _prefill_step(model: Any, ids: Any) -> Step:
    def step(i: int) -> object:
        return model(input_ids=ids, use_cache=True, logits_to_keep=1)

    return step


def hf_steps(
    m: Model, dtype: str, points: Sequence[Point], opts: TimingOptions
) -> Iterable[tuple[Point, Step]]:
    import torch

    from ..measure.torch_backend import TORCH_DTYPES

    tf = _import()
    torch_dtype = TORCH_DTYPES[dtype]
    torch.manual_seed(opts.seed)
    model = build_hf_model(m, dtype, opts.device)
    cache_kw = cache_keyword(model)
    for p in points:
        if p.phase == "prefill":
            ids = torch.randint(0, m.vocab_size, (p.batch, p.tokens), device=opts.device)
            yield p, _prefill_step(model, ids)
            continue
        ids = torch.randint(0, m.vocab_size, (p.batch, 1), device=opts.device)
        cache = _zero_cache(tf, m, p.batch, p.tokens, torch_dtype, opts.device)
        positions = torch.full((p.batch, 1), p.tokens, device=opts.device)

        def step(
            i: int, ids: Any = ids, cache: Any = cache, pos: Any = positions, c: int = p.tokens
        ) -> Any:
            out = model(
                input_ids=ids,
                position_ids=pos,
                use_cache=True,
                logits_to_keep=1,
                **{cache_kw: cache},
            )
            _crop_to(cache, c)
            return out

        yield p, step
