"""Typed, strictly checked reads of a Hugging Face ``config.json`` object.

``Fields`` wraps one JSON object and the file it came from; every error it raises is one
``ValueError`` naming that file and the field (``text_config.hidden_size`` when nested).
The helpers below hold what several families share: the attention shape (``core``), the
sliding-window layout (``windows``) and the Qwen-MoE dense-layer layout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..inputs import bounds, checks
from ..inputs.bounds import Bound

Kwargs = dict[str, Any]
NO_DEFAULT: Any = object()
SLIDING, FULL = "sliding_attention", "full_attention"


class Fields:
    """Typed reads from one JSON object; every error names the file and the field."""

    def __init__(self, config: Mapping[str, Any], origin: str, prefix: str = "") -> None:
        self.config, self.origin, self.prefix = config, origin, prefix

    def error(self, key: str, problem: str) -> ValueError:
        return ValueError(f"{self.origin}: field '{self.prefix}{key}' {problem}")

    def has(self, key: str) -> bool:
        """Present and not null."""
        return self.config.get(key) is not None

    def size(
        self, key: str, default: Any = NO_DEFAULT, *, minimum: int = 1, bound: Bound | None = None
    ) -> int:
        """A whole number >= ``minimum`` (and inside ``bound``, checked before any use of it);
        missing or null takes ``default`` or is an error."""
        value = self.config.get(key)
        if value is None:
            if default is NO_DEFAULT:
                model_type = self.config.get("model_type", "?")
                raise self.error(key, f"is missing (required for model_type {model_type!r})")
            return int(default)
        try:
            number = checks.integer(key, value, minimum=minimum)
        except (TypeError, ValueError) as exc:
            shown = bounds.show(value)
            if "at most" in str(exc):  # an integer beyond 2^53
                raise self.error(key, f"= {shown} is too large") from None
            raise self.error(key, f"must be a whole number >= {minimum}, got {shown}") from None
        if bound is not None and not bound.contains(number):
            raise self.error(
                key, f"= {bounds.show(number)} is outside the plausible range {bound.describe()}"
            )
        return number

    def window(self, key: str, default: int | None) -> int | None:
        """A window size: missing takes ``default``; an explicit null means no window."""
        if key not in self.config:
            return default
        return None if self.config[key] is None else self.size(key)

    def flag(self, key: str, default: bool) -> bool:
        """A boolean; missing or null takes the family's documented ``default``."""
        value = self.config.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.config.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        return value

    def int_list(self, key: str) -> list[int]:
        """A list of integers; missing or null is the empty list."""
        value = self.config.get(key) or []
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise self.error(key, f"must be a list of integers, got {value!r}")
        return value

    def nested(self, key: str) -> Fields:
        """The object under ``key`` as Fields (errors say ``key.field``); missing or null: {}."""
        value = self.config.get(key)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be an object, got {value!r}")
        return Fields(value, self.origin, f"{self.prefix}{key}.")

    def one_of(self, key: str, options: tuple[str, ...], default: str) -> str:
        """A string among ``options``; missing or null takes ``default``."""
        value = self.config.get(key)
        if value is None:
            return default
        if value not in options:
            raise self.error(key, f"= {value!r} is not supported; supported: {', '.join(options)}")
        return str(value)

    def refuse(self, key: str, supported: Any, why: str) -> None:
        """Raise when ``key`` is set to anything but ``supported``: a variant not modelled."""
        value = self.config.get(key)
        if value is not None and value != supported:
            raise self.error(key, f"= {value!r} is not supported: {why}")


def core(
    r: Fields,
    *,
    kv_missing_is_mha: bool = False,
    kv_heads: int | None = None,
    head_dim: int | None = None,
    head_dim_default: int | None = None,
    head_dim_key: str | None = "head_dim",
    names: tuple[str, str, str] = ("hidden_size", "num_hidden_layers", "num_attention_heads"),
) -> Kwargs:
    """Vocabulary, width, depth, heads, KV heads and head_dim, with their consistency checks.

    KV heads: ``kv_heads`` when the family derives them itself; else ``num_key_value_heads``,
    where an explicit null is MHA (every family's config class maps None so) and a missing
    field is MHA only when ``kv_missing_is_mha`` (the family's documented default); elsewhere
    the default is a reference checkpoint's number, so the field is required.
    head_dim: ``head_dim``, else the config's ``head_dim_key``, else the family's
    ``head_dim_default``, else hidden / heads (which must divide).
    """
    hidden_key, layers_key, heads_key = names
    hidden, heads = r.size(hidden_key), r.size(heads_key)
    if head_dim is None and head_dim_key is not None and r.has(head_dim_key):
        head_dim = r.size(head_dim_key)
    elif head_dim is None and head_dim_default is not None:
        head_dim = head_dim_default
    elif head_dim is None:
        if hidden % heads:
            raise r.error(
                heads_key,
                f"({heads}) does not divide {hidden_key} ({hidden}) and no head_dim is given",
            )
        head_dim = hidden // heads
    kv_key = "num_key_value_heads"
    if kv_heads is None:
        explicit_null = kv_key in r.config and r.config[kv_key] is None
        kv_heads = r.size(kv_key, heads if kv_missing_is_mha or explicit_null else NO_DEFAULT)
        if heads % kv_heads:
            raise r.error(kv_key, f"({kv_heads}) does not divide {heads_key} ({heads})")
    max_pos = r.size("max_position_embeddings") if r.has("max_position_embeddings") else None
    return {
        "vocab_size": r.size("vocab_size"),
        "hidden_size": hidden,
        "num_layers": r.size(layers_key, bound=bounds.LAYERS),  # before any per-layer loop
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "max_position_embeddings": max_pos,
    }


def windows(
    r: Fields, window: int | None, layers: int, is_sliding: Callable[[int], bool]
) -> Kwargs:
    """``layer_types`` when given, else the family's pattern; no window, no sliding layers."""
    if window is None:
        return {}
    if "layer_types" in r.config:
        kinds = r.config["layer_types"]
        if not isinstance(kinds, list) or len(kinds) != layers:
            raise r.error("layer_types", f"must be a list of {layers} layer kinds, got {kinds!r}")
        unknown = sorted({str(k) for k in kinds} - {SLIDING, FULL})
        if unknown:
            raise r.error(
                "layer_types", f"has unsupported kinds {unknown} (known: {SLIDING}, {FULL})"
            )
        chosen = tuple(i for i, kind in enumerate(kinds) if kind == SLIDING)
    else:
        chosen = tuple(i for i in range(layers) if is_sliding(i))
    return {"sliding_window": window, "sliding_window_layers": chosen} if chosen else {}


def every_layer(_: int) -> bool:
    return True


def even_layer(i: int) -> bool:
    return i % 2 == 0


def biases(attention: bool, mlp: bool = False) -> Kwargs:
    """``attention``: biases on q, k, v and o; ``mlp``: on every MLP projection."""
    return {"qkv_bias": attention, "o_bias": attention, "mlp_bias": mlp}


def leading_dense_layers(r: Fields, layers: int) -> int:
    """Qwen-MoE layout: MoE on every layer except a leading run listed in mlp_only_layers."""
    r.refuse("decoder_sparse_step", 1, "MoE on every n-th layer is not modelled")
    dense = r.int_list("mlp_only_layers")
    if sorted(dense) != list(range(len(dense))) or len(dense) > layers:
        raise r.error(
            "mlp_only_layers",
            f"= {dense} is not supported: only a leading run of dense layers 0..k-1 is modelled",
        )
    return len(dense)


def experts(r: Fields, total_key: str, per_token_key: str) -> tuple[int, int]:
    """Routed experts and experts per token, the latter no more than the former."""
    total, per_token = r.size(total_key), r.size(per_token_key)
    if per_token > total:
        raise r.error(per_token_key, f"({per_token}) exceeds {total_key} ({total})")
    return total, per_token
