"""Load a ``Model`` from a Hugging Face ``config.json``: a file, a folder, or the local hub cache.

``load_hf_config(source)`` accepts a path to a ``config.json``, a directory holding one, or
a repository id (``meta-llama/Llama-3.1-8B``) already downloaded to the local cache
(``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
``~/.cache/huggingface/hub``; layout ``models--ORG--NAME/snapshots/<rev>/config.json``, the
snapshot ``refs/main`` names preferred, else the newest). Nothing is downloaded, and no code
named by a config is imported or run (``auto_map`` and ``trust_remote_code`` are ignored).

Every bad input raises one ``ValueError`` naming the file and, where one is at fault, the
field. The per-family field mapping lives in ``hf_families``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..inputs.bounds import show
from ..inputs.documents import load_json
from ..inputs.model import Model
from .hf_families import FAMILIES
from .hf_fields import Fields

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(FAMILIES))
CONFIG_NAME = "config.json"


def hub_cache_dir() -> Path:
    """The local Hugging Face hub cache, resolved the way ``huggingface_hub`` does."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "huggingface" / "hub"


def looks_like_repo_id(text: str) -> bool:
    """``ORG/NAME`` or ``NAME``: no other separators, no ``.json`` suffix, no ``..``."""
    parts = text.split("/")
    return (
        0 < len(parts) <= 2
        and all(parts)
        and ".." not in text
        and "\\" not in text
        and not text.endswith(".json")
        and not text.startswith(("~", "."))
    )


def _repo_folder(cache: Path, repo_id: str) -> Path | None:
    """``models--ORG--NAME`` in ``cache``, matched exactly, else case-insensitively."""
    wanted = "models--" + repo_id.replace("/", "--")
    if (cache / wanted).is_dir():
        return cache / wanted
    if not cache.is_dir():
        return None
    matches = [p for p in cache.iterdir() if p.name.lower() == wanted.lower() and p.is_dir()]
    return matches[0] if len(matches) == 1 else None


_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, its links followed, lies under ``root`` (links followed too)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        return False


def find_in_hub_cache(repo_id: str, cache: Path | None = None) -> Path | None:
    """The cached ``config.json`` of ``repo_id``: the ``refs/main`` snapshot, else the newest.

    The hub's own layout keeps every snapshot and blob inside the repository's folder, so a
    ref naming another folder (``../../x``) or a snapshot whose links lead out of it is
    refused with a ValueError rather than followed.
    """
    cache = hub_cache_dir() if cache is None else cache
    folder = _repo_folder(cache, repo_id)
    if folder is None:
        return None
    snapshots = folder / "snapshots"
    ref = folder / "refs" / "main"
    if ref.is_file():
        try:
            revision = ref.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{ref}: cannot be read ({exc})") from None
        if not _REVISION.fullmatch(revision) or revision.strip(".") == "":
            raise ValueError(
                f"{ref}: names the snapshot {revision[:80]!r}, which is not a revision inside "
                f"{snapshots}; refusing to follow it"
            )
        preferred = snapshots / revision / CONFIG_NAME
        if preferred.is_file():
            if not _inside(preferred, folder):
                raise ValueError(f"{preferred}: leads outside {folder}; refusing to read it")
            return preferred
    found = list(snapshots.glob(f"*/{CONFIG_NAME}")) if snapshots.is_dir() else []
    candidates = [p for p in found if _inside(p, folder)]
    if found and not candidates:
        raise ValueError(
            f"{snapshots}: every snapshot's {CONFIG_NAME} leads outside {folder}; refusing them"
        )
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def _name_for(path: Path) -> str:
    """``ORG/NAME`` for a file inside a hub-cache snapshot, else its folder's name."""
    for parent in path.parents:
        if parent.name.startswith("models--") and parent.name.count("--") >= 1:
            return parent.name.removeprefix("models--").replace("--", "/", 1)
    return path.parent.name or path.stem


def resolve_config_path(source: str | os.PathLike[str]) -> tuple[Path, str]:
    """The ``config.json`` that ``source`` names, and a model name for it."""
    path = Path(source).expanduser()
    if path.is_dir():
        config = path / CONFIG_NAME
        if not config.is_file():
            raise ValueError(f"{path}: directory has no {CONFIG_NAME}")
        return config, _name_for(config)
    if path.is_file():
        return path, _name_for(path)
    text = os.fspath(source)
    if looks_like_repo_id(text):
        cached = find_in_hub_cache(text)
        if cached is not None:
            return cached, text
        raise ValueError(
            f"{text}: no such file or directory, and no repository of that id in the local "
            f"Hugging Face cache ({hub_cache_dir()}); nothing is downloaded"
        )
    raise ValueError(f"{path}: no such file or directory")


def read_config_file(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; a missing file, bad JSON or a non-object is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc})") from None
    config = load_json(text, str(path))
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return config


def model_from_hf_dict(
    config: dict[str, Any], name: str, origin: str, source: str | None = None
) -> Model:
    """A ``Model`` from a parsed ``config.json``; ``origin`` (the file) names every error,
    ``source`` (default: ``origin``) is what the Model, and so every report, records."""
    if not isinstance(config, dict):
        raise ValueError(f"{origin}: expected a JSON object, got {type(config).__name__}")
    model_type = config.get("model_type")
    supported = ", ".join(SUPPORTED_MODEL_TYPES)
    if model_type is None:
        raise ValueError(f"{origin}: field 'model_type' is missing; supported: {supported}")
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        raise ValueError(
            f"{origin}: field 'model_type' = {show(model_type)} is not supported; "
            f"supported: {supported}"
        )
    try:
        kwargs = FAMILIES[model_type](Fields(config, origin))
        kwargs.setdefault("activation", _activation(config))
        return Model(name=name, source=origin if source is None else source, **kwargs)
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(f"{origin}: "):
            raise
        # A cross-field rule of Model/MoE/MLA the family mapping did not pre-check.
        raise ValueError(f"{origin}: {exc}") from None


def _activation(config: dict[str, Any]) -> str:
    """The MLP's activation as transformers names it (``hidden_act``; GPT-2 and OPT:
    ``activation_function``), "" when the config gives none as a string."""
    for key in ("hidden_act", "activation_function", "hidden_activation"):
        value = config.get(key)
        if isinstance(value, str):
            return value
    return ""


def short_source(path: Path, name: str) -> str:
    """What a report records of a user's config: never its absolute path (it may name the
    user's home folder), only the file and its folder, or the cached repository."""
    snapshots = path.parent.parent
    if snapshots.name == "snapshots" and snapshots.parent.name.startswith("models--"):
        return f"{name} in the local Hugging Face cache (snapshot {path.parent.name[:12]})"
    return f"user config {path.parent.name}/{path.name}" if path.parent.name else path.name


def load_hf_config(source: str | os.PathLike[str]) -> Model:
    """A ``Model`` from a ``config.json`` path, a folder holding one, or a cached repo id."""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"a model config must be a path or a repository id, got {show(source)}")
    path, name = resolve_config_path(source)
    return model_from_hf_dict(
        read_config_file(path), name=name, origin=str(path), source=short_source(path, name)
    )
