"""Efficiency data by device generation (``data/efficiency/<generation>.json``) and the
engine profiles (``data/efficiency/engines.json``): the loader.

A generation file is an efficiency table (``engine/calibration.py``, format v2) of one of
three statuses: ``calibrated`` (fitted by ``measure/fit.py`` on measured kernels of that
generation), ``transferred`` (``"inherits"`` another generation's fitted curves: applied
to this generation's datasheet roofs, not measured on it) or ``uncalibrated`` (flat
fractions). A preset names its generation and inherits the table, with every engine
profile and the range factors merged in. The engine parses a table when it first prices
with it (``engine/calibration.py``; the catalog may not import the engine), and names the
generation in any error; a test parses every shipped file.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ..inputs.hardware import EFFICIENCY_TABLE_FORMAT, GENERATIONS
from ..inputs.workload import ENGINES

ENGINES_FORMAT = "llm-roofline/engine-profiles/v1"
_GENERATION_KEYS = frozenset(
    {
        "format",
        "generation",
        "status",
        "note",
        "source",
        "fitted",
        "inherits",
        "overhead_mode",
        "dtypes",
        "aliases",
        "collectives",
        "residuals",
    }
)
_ENGINES_KEYS = frozenset({"format", "about", "default_engine", "engines", "ranges", "fitted"})


def _read(name: str) -> Any:
    folder = resources.files("llm_roofline.catalog").joinpath("data", "efficiency")
    entry = folder.joinpath(name)
    if not entry.is_file():
        return None
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"efficiency file {name}: invalid JSON: {error}") from None


def _check_keys(origin: str, data: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{origin}: must contain a JSON object")
    for key in data:
        if key not in allowed:
            raise ValueError(
                f"{origin}: unknown key {key!r}; allowed: {', '.join(sorted(allowed))}"
            )
    return data


@functools.lru_cache(maxsize=1)
def engine_profiles() -> dict[str, Any]:
    """engines.json, validated: one profile per engine ``Workload`` knows, ranges."""
    origin = "efficiency file engines.json"
    data = _check_keys(origin, _read("engines.json"), _ENGINES_KEYS)
    if data.get("format") != ENGINES_FORMAT:
        raise ValueError(f"{origin}: format must be {ENGINES_FORMAT!r}, got {data.get('format')!r}")
    engines = data.get("engines")
    if not isinstance(engines, dict) or sorted(engines) != sorted(ENGINES):
        raise ValueError(f"{origin}: engines must have exactly {', '.join(ENGINES)}")
    return data


def _resolved_engines(engines: dict[str, Any]) -> dict[str, Any]:
    """Each profile with its ``inherits`` chain applied (the child's numbers win)."""
    out: dict[str, Any] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> dict[str, Any]:
        if name in seen:
            raise ValueError(f"efficiency file engines.json: engines.{name} inherits in a cycle")
        entry = engines[name]
        parent = entry.get("inherits")
        if parent is None:
            return dict(entry)
        if parent not in engines:
            raise ValueError(
                f"efficiency file engines.json: engines.{name}.inherits: unknown {parent!r}"
            )
        return resolve(parent, (*seen, name)) | {k: v for k, v in entry.items() if k != "inherits"}

    for name in engines:
        out[name] = resolve(name, ())
    return out


@functools.cache
def generation_table(generation: str) -> dict[str, Any] | None:
    """The efficiency table a device of ``generation`` inherits (engines and ranges merged
    in), or None when there is no file for it. The same object on every call: treat it as
    read-only (the engine caches its parse by identity)."""
    if generation not in GENERATIONS:
        raise ValueError(f"generation must be one of {', '.join(GENERATIONS)}; got {generation!r}")
    origin = f"efficiency file {generation}.json"
    data = _read(f"{generation}.json")
    if data is None:
        return None
    data = dict(_check_keys(origin, data, _GENERATION_KEYS))
    if data.get("generation") != generation:
        raise ValueError(
            f"{origin}: generation must be {generation!r}, got {data.get('generation')!r}"
        )
    parent = data.pop("inherits", None)
    if parent is not None:
        base = generation_table(parent) if parent != generation else None
        if base is None or base.get("status") != "calibrated":
            raise ValueError(
                f"{origin}: inherits must name a calibrated generation, got {parent!r}"
            )
        for key in ("overhead_mode", "dtypes", "aliases", "collectives"):
            if key in base:
                data.setdefault(key, base[key])
    if data.setdefault("format", EFFICIENCY_TABLE_FORMAT) != EFFICIENCY_TABLE_FORMAT:
        raise ValueError(f"{origin}: format must be {EFFICIENCY_TABLE_FORMAT!r}")
    profiles = engine_profiles()
    data["engines"] = {
        name: {k: v for k, v in entry.items() if k not in ("inherits",)}
        for name, entry in _resolved_engines(profiles["engines"]).items()
    }
    data["default_engine"] = profiles["default_engine"]
    data["ranges"] = profiles.get("ranges", {})
    return data  # parsed (and every field checked) by the engine; tests parse every file
