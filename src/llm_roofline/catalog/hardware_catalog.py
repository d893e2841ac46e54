"""Hardware presets (``data/hardware/<id>.json``), users' device files, and overrides.

Presets are strict: exactly the keys of ``PRESET_KEYS``, SI numbers only, a source for
every number. A user's file (JSON or TOML) has the same schema with ``id``, ``aliases``,
``sources``, ``notes`` and ``vendor`` optional, a plain ``source`` string allowed, numbers
given either in SI or as human-unit strings ("3.35 TB/s", "80GB", "989.4T"), plus the
optional ``compute_efficiency``, ``bandwidth_efficiency`` and ``efficiency_table``; a
measured profile written by ``llm-roofline measure`` also carries ``kind`` and ``machine``.

Interconnect convention: ``interconnect_bytes_per_s`` is the bandwidth one device can send
in ONE direction over all of its scale-up links together (H100 SXM NVLink 4: 450 GB/s; the
900 GB/s NVIDIA quotes counts both directions). Every error is one ``ValueError`` naming
the file or preset, the field and the value.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import os
import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from ..inputs import checks, units
from ..inputs.documents import load_json, load_toml
from ..inputs.dtypes import COMPUTE_DTYPES, normalize
from ..inputs.hardware import Hardware
from .efficiency import generation_table
from .hardware_overrides import HardwareOverrides, apply_overrides, parse_peak_assignment

__all__ = [
    "HardwareOverrides",
    "apply_overrides",
    "get_hardware",
    "hardware_from_dict",
    "hardware_record",
    "list_hardware",
    "load_hardware_file",
    "parse_peak_assignment",
    "preset_ids",
    "resolve_hardware",
]

PROFILE_KIND = "llm-roofline/hardware-profile/v1"
SOURCE_FIELDS = (
    "peak_flops_per_s",
    "bandwidth_bytes_per_s",
    "memory_bytes",
    "interconnect_bytes_per_s",
)
# Optional in a record; when given, a preset must also source them (``sources``).
EFFICIENCY_FIELDS = ("generation", "in_network_reduction")
PRESET_KEYS = frozenset(
    {"id", "name", "vendor", "aliases", "notes", "sources", *SOURCE_FIELDS, *EFFICIENCY_FIELDS}
)
_PRESET_REQUIRED = PRESET_KEYS - set(EFFICIENCY_FIELDS)
_USER_REQUIRED = frozenset({"name", "peak_flops_per_s", "bandwidth_bytes_per_s", "memory_bytes"})
_USER_EXTRA = ("source", "compute_efficiency", "bandwidth_efficiency", "efficiency_table")
_USER_KEYS = PRESET_KEYS | {*_USER_EXTRA, "kind", "machine"}
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Words dropped when matching names: "NVIDIA GeForce RTX 4090" matches "rtx-4090".
_NOISE_WORDS = frozenset(
    {"nvidia", "amd", "google", "intel", "apple", "geforce", "instinct", "tesla", "habana", "cloud"}
)


class _Catalog(NamedTuple):
    records: dict[str, dict[str, Any]]  # id -> the raw JSON record
    hardware: dict[str, Hardware]  # id -> validated Hardware
    spellings: dict[str, str]  # normalized spelling -> id


def _key(name: str) -> str:
    """'NVIDIA H100_SXM5 ' -> 'h100sxm5': lowercase, noise words and punctuation dropped."""
    tokens = re.split(r"[^a-z0-9]+", name.lower())
    return "".join(token for token in tokens if token and token not in _NOISE_WORDS)


def _fail(origin: str, message: str) -> ValueError:
    return ValueError(f"{origin}: {message}")


def _check_keys(
    data: Mapping[str, Any], origin: str, allowed: frozenset[str], required: frozenset[str]
) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(origin, f"unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in data:
            raise _fail(origin, f"missing key {key!r}")


def _text(origin: str, field: str, value: Any, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise _fail(origin, f"{field} must be a non-empty string, got {value!r}")
    return value


def _si_number(origin: str, field: str, value: Any) -> float:
    """Presets hold plain SI numbers: a positive finite int or float, no unit strings."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(origin, f"{field} must be a number in SI units, got {value!r}")
    try:
        return float(checks.positive(field, value))
    except ValueError as error:
        raise _fail(origin, str(error)) from None


def _human(origin: str, field: str, value: Any, parse: Callable[[str, Any], float]) -> float:
    try:
        return parse(field, value)
    except ValueError as error:
        raise _fail(origin, str(error)) from None


def _peaks(origin: str, value: Any, *, preset: bool) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise _fail(origin, f"peak_flops_per_s must map dtypes to FLOP/s, got {value!r}")
    peaks: dict[str, float] = {}
    for name, peak in value.items():
        field = f"peak_flops_per_s.{name}"
        if preset and name not in COMPUTE_DTYPES:
            raise _fail(origin, f"unknown dtype {name!r}; known: {', '.join(COMPUTE_DTYPES)}")
        try:
            dtype = normalize(field, name, COMPUTE_DTYPES)
        except (TypeError, ValueError) as error:
            raise _fail(origin, f"unknown dtype: {error}") from None
        if dtype in peaks:
            raise _fail(origin, f"dtype {dtype!r} is given twice in peak_flops_per_s")
        if preset:
            peaks[dtype] = _si_number(origin, field, peak)
        else:
            peaks[dtype] = _human(origin, field, peak, units.parse_flops_per_s)
    return peaks


def _sources(origin: str, value: Any, *, preset: bool, given: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _fail(origin, f"sources must map fields to text, got {value!r}")
    allowed = frozenset({*SOURCE_FIELDS, *EFFICIENCY_FIELDS})
    required = {*SOURCE_FIELDS, *(f for f in EFFICIENCY_FIELDS if f in given)}
    _check_keys(
        value, f"{origin}: sources", allowed, frozenset(required) if preset else frozenset()
    )
    return {field: _text(origin, f"sources.{field}", text) for field, text in value.items()}


def _build(data: Mapping[str, Any], origin: str, *, preset: bool) -> Hardware:
    """Validate one record (already key-checked) and construct its Hardware."""
    name = _text(origin, "name", data["name"])
    vendor = _text(origin, "vendor", data.get("vendor", ""), empty_ok=not preset)
    notes = _text(origin, "notes", data.get("notes", ""), empty_ok=True)
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list):
        raise _fail(origin, f"aliases must be a list of strings, got {aliases!r}")
    for alias in aliases:
        _text(origin, "aliases[]", alias)
    peaks = _peaks(origin, data["peak_flops_per_s"], preset=preset)
    if preset:
        number = functools.partial(_si_number, origin)
        bandwidth = number("bandwidth_bytes_per_s", data["bandwidth_bytes_per_s"])
        memory = number("memory_bytes", data["memory_bytes"])
    else:
        bandwidth = _human(
            origin, "bandwidth_bytes_per_s", data["bandwidth_bytes_per_s"], units.parse_bytes_per_s
        )
        memory = _human(origin, "memory_bytes", data["memory_bytes"], units.parse_bytes)
    interconnect: float | None = None
    if data.get("interconnect_bytes_per_s") is not None:
        raw = data["interconnect_bytes_per_s"]
        interconnect = (
            _si_number(origin, "interconnect_bytes_per_s", raw)
            if preset
            else _human(origin, "interconnect_bytes_per_s", raw, units.parse_bytes_per_s)
        )
    sources = (
        _sources(origin, data["sources"], preset=preset, given=data) if "sources" in data else {}
    )
    if "source" in data:
        source = _text(origin, "source", data["source"])
    elif sources:
        source = " | ".join(f"{field}: {text}" for field, text in sources.items())
    else:
        source = f"user file {Path(origin).name}"  # not the path: reports are shared
    extra: dict[str, Any] = {}
    for field in ("compute_efficiency", "bandwidth_efficiency"):
        if field in data:
            extra[field] = data[field]
    table = data.get("efficiency_table")
    if table is not None and not isinstance(table, dict):
        raise _fail(origin, f"efficiency_table must be a table/object, got {table!r}")
    generation = data.get("generation", "")
    for field in EFFICIENCY_FIELDS:
        if field in data:
            extra[field] = data[field]
    try:
        if table is None and generation:
            table = generation_table(generation)  # the generation's expected-time data
        return Hardware(
            name=name,
            peak_flops_per_s=peaks,
            bandwidth_bytes_per_s=bandwidth,
            memory_bytes=memory,
            interconnect_bytes_per_s=interconnect,
            id=str(data.get("id", "")),
            vendor=vendor,
            source=source,
            notes=notes,
            efficiency_table=table,
            **extra,
        )
    except (TypeError, ValueError) as error:
        raise _fail(origin, str(error)) from None


def _preset_files() -> list[tuple[str, str]]:
    """(file name, text) of every bundled preset, via importlib.resources."""
    folder = resources.files("llm_roofline.catalog").joinpath("data", "hardware")
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def _reject_duplicates(origin: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _fail(origin, f"key {key!r} appears twice")
            result[key] = value
        return result

    return hook


def _parse_json(text: str, origin: str) -> Any:
    return load_json(text, origin, object_pairs_hook=_reject_duplicates(origin))


@functools.lru_cache(maxsize=1)
def _catalog() -> _Catalog:
    """Every preset, read and validated once per process."""
    records: dict[str, dict[str, Any]] = {}
    hardware: dict[str, Hardware] = {}
    index: dict[str, str] = {}
    for file_name, text in _preset_files():
        origin = f"hardware preset {file_name}"
        data = _parse_json(text, origin)
        if not isinstance(data, dict):
            raise _fail(origin, "must contain a JSON object")
        _check_keys(data, origin, PRESET_KEYS, _PRESET_REQUIRED)
        preset_id = _text(origin, "id", data["id"])
        if not _ID_PATTERN.match(preset_id) or f"{preset_id}.json" != file_name:
            raise _fail(
                origin, f"id {preset_id!r} must be lowercase-with-dashes and match the file name"
            )
        hardware[preset_id] = _build(data, origin, preset=True)
        records[preset_id] = data
        for spelling in (preset_id, data["name"], *data["aliases"]):
            owner = index.setdefault(_key(spelling), preset_id)
            if owner != preset_id:
                raise _fail(origin, f"spelling {spelling!r} also names preset {owner!r}")
    return _Catalog(records, hardware, index)


def preset_ids(contains: str | None = None) -> list[str]:
    """Sorted preset ids; ``contains`` keeps those whose id, name, vendor or alias has it."""
    catalog = _catalog()
    if not contains or not contains.strip():
        return sorted(catalog.records)
    raw, key = contains.strip().lower(), _key(contains)

    def matches(record: dict[str, Any]) -> bool:
        spellings = (record["id"], record["name"], record["vendor"], *record["aliases"])
        return any(raw in s.lower() or (key and key in _key(s)) for s in spellings)

    return sorted(preset_id for preset_id, record in catalog.records.items() if matches(record))


def _resolve_id(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"hardware name must be a non-empty string, got {name!r}")
    catalog = _catalog()
    found = catalog.spellings.get(_key(name))
    if found is not None:
        return found
    close = difflib.get_close_matches(_key(name), list(catalog.spellings), n=8, cutoff=0.5)
    suggestions = list(dict.fromkeys(catalog.spellings[c] for c in close))[:5]
    hint = f"closest: {', '.join(suggestions)}" if suggestions else "no close match"
    raise ValueError(
        f"unknown hardware {name!r}; {hint}. Known ids: {', '.join(sorted(catalog.records))}"
    )


def get_hardware(name: str) -> Hardware:
    """The preset named ``name`` (id, alias or name; case, spaces, '_'/'-' and vendor ignored)."""
    found = _catalog().hardware[_resolve_id(name)]
    return dataclasses.replace(found, peak_flops_per_s=dict(found.peak_flops_per_s))


def list_hardware(contains: str | None = None) -> list[Hardware]:
    """Presets in id order (see ``preset_ids`` for the filter)."""
    return [get_hardware(preset_id) for preset_id in preset_ids(contains)]


def hardware_record(name: str) -> dict[str, Any]:
    """A copy of a preset's raw record: aliases and per-field sources for ``hardware show``."""
    return copy.deepcopy(_catalog().records[_resolve_id(name)])


def load_hardware_file(path: str | os.PathLike[str]) -> Hardware:
    """A user's device (or a measured profile) from a .json or .toml file."""
    file = Path(path)
    origin = str(file)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ValueError(f"hardware file {origin} must end in .json or .toml")
    if not file.is_file():
        raise ValueError(f"hardware file {origin} does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(origin, f"cannot read: {error}") from None
    if suffix == ".toml":
        data: Any = load_toml(text, origin)
    else:
        data = _parse_json(text, origin)
    return hardware_from_dict(data, origin)


def hardware_from_dict(data: Any, origin: str = "hardware") -> Hardware:
    """A user's device from already-parsed data (a device file's object); ``origin`` names
    every error. The same schema and checks as ``load_hardware_file``."""
    if not isinstance(data, dict):
        raise _fail(origin, "must contain an object/table of hardware fields")
    _check_keys(data, origin, _USER_KEYS, _USER_REQUIRED)
    if "kind" in data and data["kind"] != PROFILE_KIND:
        raise _fail(origin, f"kind must be {PROFILE_KIND!r}, got {data['kind']!r}")
    if "machine" in data and not isinstance(data["machine"], dict):
        raise _fail(origin, f"machine must be a table/object, got {data['machine']!r}")
    if "id" in data:
        _text(origin, "id", data["id"])
    return _build(data, origin, preset=False)


def resolve_hardware(
    spec: str | os.PathLike[str] | Hardware,
    overrides: HardwareOverrides | Mapping[str, Any] | None = None,
) -> Hardware:
    """A preset name or a path to a .json/.toml device file, with optional overrides."""
    if isinstance(spec, Hardware):
        hardware = spec
    elif isinstance(spec, os.PathLike) or str(spec).lower().endswith((".json", ".toml")):
        hardware = load_hardware_file(spec)
    else:
        hardware = get_hardware(spec)
    return apply_overrides(hardware, overrides) if overrides else hardware
