"""transformers models from real ``config.json`` files: the whole model, fewer layers, or a
tiny one of the same architecture (imported only when transformers is asked for).

``hf_config(raw, layers=..., hidden=...)`` is ``AutoConfig.for_model(model_type,
**config)`` of the file itself (GPT-2's learned positions and Conv1D, Phi-2's parallel
block and partial rotary, OPT's ReLU and position offset: every architectural choice is
the file's), with the layer count and, for the tiny probe models, the widths overridden
through transformers' own attribute names (``attribute_map`` maps ``hidden_size`` to
GPT-2's ``n_embd`` and so on). Never downloads.
"""

from __future__ import annotations

from typing import Any

# Intermediate-size field per model type where it is not ``intermediate_size``.
_INTERMEDIATE = {"gpt2": "n_inner", "opt": "ffn_dim"}


def import_transformers() -> Any:
    try:
        import transformers  # optional: the hf extra
    except ImportError:
        raise ValueError(
            "transformers is not installed (pip install transformers); it is needed for "
            "the transformers backend and engine profile"
        ) from None
    return transformers


def hf_config(
    raw: dict[str, Any],
    *,
    layers: int | None = None,
    hidden: int | None = None,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate: int | None = None,
    vocab: int | None = None,
) -> Any:
    """The transformers config of ``raw`` (a parsed config.json), with ``layers`` layers;
    ``hidden`` shrinks it to that width (``heads`` heads, ``kv_heads`` where the
    architecture has GQA, ``intermediate`` MLP width, ``vocab`` tokens)."""
    tf = import_transformers()
    fields = {k: v for k, v in raw.items() if k not in ("model_type", "architectures")}
    model_type = raw.get("model_type")
    if not isinstance(model_type, str):
        raise ValueError(f"config.json: field 'model_type' must be a string, got {model_type!r}")
    try:
        config = tf.AutoConfig.for_model(model_type, **fields)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"config.json: model_type {model_type!r}: {exc}") from None
    if layers is not None:
        config.num_hidden_layers = layers
        if isinstance(getattr(config, "layer_types", None), list):
            config.layer_types = config.layer_types[:layers]
    if hidden is not None:
        _shrink(config, model_type, hidden, heads, kv_heads, intermediate or 2 * hidden)
    if vocab is not None:
        config.vocab_size = vocab
    return config


def _shrink(
    config: Any, model_type: str, hidden: int, heads: int, kv_heads: int, intermediate: int
) -> None:
    config.hidden_size = hidden
    config.num_attention_heads = heads
    if getattr(config, "num_key_value_heads", None) is not None:
        gqa = config.num_key_value_heads != getattr(config, "num_attention_heads", None)
        config.num_key_value_heads = kv_heads if gqa else heads
    if getattr(config, "head_dim", None) is not None:
        config.head_dim = hidden // heads
    setattr(config, _INTERMEDIATE.get(model_type, "intermediate_size"), intermediate)
    if model_type == "opt":
        config.word_embed_proj_dim = hidden


def build(config: Any, dtype: Any, device: str) -> Any:
    """The model of ``config`` with random weights, SDPA attention, in eval mode; built
    outside inference mode, as users build it (inside it, a tied bf16 lm_head ran as a
    bmm that first copied its whole weight: 1.0 s of a 1.1 s prefill)."""
    import torch

    tf = import_transformers()
    with torch.inference_mode(False):
        model = tf.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
        return model.to(device=device, dtype=dtype).eval()


def kv_shape(config: Any) -> tuple[int, int]:
    """(KV heads, head_dim) of the cache a layer of ``config`` keeps."""
    heads = config.num_attention_heads
    kv = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return kv, head_dim
