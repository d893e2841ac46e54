"""Built-in model presets (real Hugging Face ``config.json`` files) and name resolution.

The presets live in ``data/models/ORG/NAME/config.json`` with one ``data/models/index.json``
listing, per model, its repository id, a short alias, where the config came from, and the
published parameter count with its source. ``get_model(name)`` accepts a repository id or
alias (case-insensitive; ``-``, ``_``, spaces and ``/`` are ignored, so ``llama3.1-8b`` finds
``meta-llama/Llama-3.1-8B``), a path to a ``config.json`` or a folder holding one, or a
repository id in the local Hugging Face cache. Parsed presets are cached: asking twice reads
no file twice.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..inputs import checks
from ..inputs.bounds import show
from ..inputs.model import Model
from .hf_config import (
    CONFIG_NAME,
    find_in_hub_cache,
    hub_cache_dir,
    load_hf_config,
    looks_like_repo_id,
    model_from_hf_dict,
)

INDEX_SCHEMA_VERSION = 1
_INDEX_KEYS = frozenset({"schema_version", "description", "models"})
_ENTRY_KEYS = frozenset(
    {
        "repo_id",
        "alias",
        "source",
        "config_verbatim",
        "published_parameters",
        "published_parameters_rounded",
        "published_parameters_source",
        "active_parameters",
        "notes",
    }
)


@dataclass(frozen=True)
class ModelEntry:
    """One built-in preset as listed in ``index.json``."""

    repo_id: str
    alias: str
    source: str  # where the config.json copy came from
    config_verbatim: bool  # False: reconstructed from cross-checked copies (see source)
    published_parameters: int | None  # exact published count; None where none was found
    published_parameters_rounded: str
    published_parameters_source: str
    active_parameters: int | None  # MoE: per-token active count, this project's convention
    notes: str = ""

    def __post_init__(self) -> None:
        checks.text("repo_id", self.repo_id)
        checks.text("alias", self.alias)
        checks.text("source", self.source)
        checks.boolean("config_verbatim", self.config_verbatim)
        for name in ("published_parameters", "active_parameters"):
            if getattr(self, name) is not None:
                checks.integer(name, getattr(self, name), minimum=1)
        checks.text("published_parameters_source", self.published_parameters_source)
        if not isinstance(self.notes, str):
            raise TypeError(f"notes must be a string, got {self.notes!r}")

    @property
    def config_path(self) -> str:
        """Where the config lives inside the package, relative to ``llm_roofline``."""
        return f"data/models/{self.repo_id}/{CONFIG_NAME}"


def _normalize(name: str) -> str:
    """Case-insensitive and forgiving: drop ``-``, ``_``, spaces and ``/``."""
    return "".join(c for c in name.strip().lower() if c not in "-_ /")


def _data_dir() -> Any:
    return resources.files("llm_roofline.catalog") / "data" / "models"


def _entry(raw: Any, origin: str) -> ModelEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"{origin}: every entry of 'models' must be an object, got {raw!r}")
    label = f"{origin}: models[{raw.get('repo_id', '?')!r}]"
    if set(raw) != _ENTRY_KEYS:
        missing, unknown = sorted(_ENTRY_KEYS - set(raw)), sorted(set(raw) - _ENTRY_KEYS)
        raise ValueError(f"{label}: missing keys {missing}, unknown keys {unknown}")
    try:
        return ModelEntry(**raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: {exc}") from None


def parse_index(index: Any, origin: str = "index.json") -> tuple[ModelEntry, ...]:
    """Strictly validate an index object: exact keys, typed values, names unambiguous."""
    if not isinstance(index, dict) or set(index) != _INDEX_KEYS:
        raise ValueError(f"{origin}: expected an object with exactly {sorted(_INDEX_KEYS)}")
    if index["schema_version"] != INDEX_SCHEMA_VERSION:
        raise ValueError(f"{origin}: schema_version must be {INDEX_SCHEMA_VERSION}")
    if not isinstance(index["models"], list):
        raise ValueError(f"{origin}: 'models' must be a list")
    entries = tuple(_entry(raw, origin) for raw in index["models"])
    owner: dict[str, str] = {}
    for e in entries:
        for key in {
            _normalize(e.repo_id),
            _normalize(e.repo_id.split("/")[-1]),
            _normalize(e.alias),
        }:
            if owner.setdefault(key, e.repo_id) != e.repo_id:
                raise ValueError(f"{origin}: name {key!r} is ambiguous ({owner[key]}, {e.repo_id})")
    return entries


@lru_cache(maxsize=1)
def _catalog() -> tuple[tuple[ModelEntry, ...], dict[str, ModelEntry]]:
    index_file = _data_dir() / "index.json"
    entries = parse_index(json.loads(index_file.read_text(encoding="utf-8")), str(index_file))
    lookup: dict[str, ModelEntry] = {}
    for e in entries:
        for key in (e.repo_id, e.repo_id.split("/")[-1], e.alias):
            lookup[_normalize(key)] = e
    return entries, lookup


def list_models(filter: str | None = None) -> tuple[ModelEntry, ...]:
    """Built-in presets, optionally only those whose id or alias contains ``filter``."""
    entries = _catalog()[0]
    if not filter:
        return entries
    wanted = _normalize(filter)
    return tuple(
        e for e in entries if wanted in _normalize(e.repo_id) or wanted in _normalize(e.alias)
    )


def find_entry(name: str) -> ModelEntry | None:
    """The preset that ``name`` (repo id, its last part, or alias; forgiving) names, if any."""
    return _catalog()[1].get(_normalize(name))


@cache
def preset_model(repo_id: str) -> Model:
    """The parsed preset (cached: each config file is read and parsed once per process)."""
    entry = find_entry(repo_id)
    if entry is None:
        raise ValueError(f"{repo_id!r} is not a built-in preset")
    resource = _data_dir().joinpath(*entry.repo_id.split("/"), CONFIG_NAME)
    origin = f"llm_roofline/{entry.config_path}"
    try:
        config = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{origin}: cannot be read as JSON ({exc})") from None
    model = model_from_hf_dict(config, name=entry.repo_id, origin=origin)
    return dataclasses.replace(
        model, source=f"built-in preset {origin}, a copy of {config_url(entry.repo_id)}"
    )


def hub_url(repo_id: str) -> str:
    """The model's page on the Hugging Face Hub."""
    return f"https://huggingface.co/{repo_id}"


def config_url(repo_id: str) -> str:
    """The model's config.json on the Hugging Face Hub (the main branch)."""
    return f"{hub_url(repo_id)}/blob/main/{CONFIG_NAME}"


def _is_local_config(name: str) -> bool:
    path = Path(name).expanduser()
    return path.is_file() or (path.is_dir() and (path / CONFIG_NAME).is_file())


def _unknown(name: str) -> ValueError:
    choices = {_normalize(k): k for e in _catalog()[0] for k in (e.alias, e.repo_id)}
    close = difflib.get_close_matches(_normalize(name), list(choices), n=5, cutoff=0.5)
    hint = f" Closest: {', '.join(choices[c] for c in close)}." if close else ""
    return ValueError(
        f"unknown model {name!r}: not a built-in preset, not a config.json or a folder "
        f"holding one, and not a repository id in the local Hugging Face cache "
        f"({hub_cache_dir()}).{hint} "
        "list_models() shows the presets."
    )


def get_model(name: str | os.PathLike[str]) -> Model:
    """A ``Model`` by preset id or alias, config path or folder, or cached repository id.

    A local file or folder with a config.json wins (like ``from_pretrained``), then the
    presets, then the local Hugging Face cache.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(
            f"model must be a preset name, a config path or a repository id, got {show(name)} "
            f"({type(name).__name__})"
        )
    text = os.fspath(name)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"model name must be a non-empty string, got {show(text)}")
    if _is_local_config(text):
        return load_hf_config(text)
    entry = find_entry(text)
    if entry is not None:
        return preset_model(entry.repo_id)
    if looks_like_repo_id(text) and find_in_hub_cache(text) is not None:
        return load_hf_config(text)
    if text.endswith(".json") or text.startswith(("/", ".", "~")) or Path(text).exists():
        return load_hf_config(text)  # the precise error: missing file, no config.json, ...
    raise _unknown(text)
