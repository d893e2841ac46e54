"""What the web app calls: inputs built from request data, then one library call each.

No web framework here (``cli/web.py`` uses ``page_document`` too), and no arithmetic: each
function resolves its inputs with the catalogs' and the dataclasses' own validation and
returns the library's result. Every bad input raises ``InputError(field, message)``; the
message names the field and the value (``workload: batch_size must be >= 1, got 0``).

Nothing here reads a path: a model or device named by a string must be a preset
(``find_entry`` / ``get_hardware`` resolve names only), and an uploaded ``config.json`` or
device file arrives as already-parsed data.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog.hardware_catalog import get_hardware, hardware_from_dict, list_hardware
from ..catalog.hf_config import model_from_hf_dict
from ..catalog.model_catalog import find_entry, list_models, preset_model
from ..engine.analyze import analyze
from ..engine.report import Report
from ..inputs.dtypes import STORAGE_DTYPES
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from ..studies.comparison import compare
from ..studies.findings import findings
from ..studies.plan import plan
from ..studies.plan_eval import RequestClass
from ..studies.plan_result import PlanInfeasible
from ..studies.serving import ServingCurve, SpeculativeConfig, serving_curve

WORKLOAD_FIELDS = tuple(f.name for f in dataclasses.fields(Workload))
LAYOUT_FIELDS = tuple(f.name for f in dataclasses.fields(Layout))
HARDWARE_FILE_FIELDS = (
    "name",
    "peak_flops_per_s",
    "bandwidth_bytes_per_s",
    "memory_bytes",
    "interconnect_bytes_per_s",
    "compute_efficiency",
    "bandwidth_efficiency",
    "efficiency_table",
    "id",
    "vendor",
    "aliases",
    "notes",
    "sources",
    "source",
    "kind",
    "machine",
)
UPLOADED_CONFIG = "uploaded config.json"
MAX_PREFILL_CHUNKS = 256  # chunked prefill costs one pass per chunk: bound the passes


class InputError(ValueError):
    """A bad request value: ``field`` is its path in the body (``workload.batch_size``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _field_in(prefix: str, message: str, names: Sequence[str]) -> str:
    """``prefix.NAME`` when the library's message names one of ``names``, else ``prefix``."""
    quoted = re.search(r"(?:key|field) '([A-Za-z0-9_.]+)'", message)
    if quoted:
        return f"{prefix}.{quoted.group(1)}"
    head = re.match(r"[A-Za-z_][A-Za-z0-9_.]*", message)
    if head:
        word = head.group(0)
        for name in sorted(names, key=len, reverse=True):
            if word == name or word.startswith(name + "."):
                return f"{prefix}.{word}"
    return prefix


# ---- inputs ----------------------------------------------------------------------------


def model_of(spec: Any, field: str = "model") -> Model:
    """A preset (by repo id or alias) or an uploaded ``config.json`` object."""
    if isinstance(spec, str):
        entry = find_entry(spec)
        if entry is None:
            names = [name for e in list_models() for name in (e.alias, e.repo_id)]
            close = difflib.get_close_matches(spec, names, n=3, cutoff=0.5)
            hint = f" Closest: {', '.join(close)}." if close else ""
            raise InputError(
                field,
                f"{field}: unknown model preset {spec!r}; GET /api/models lists them, "
                f"or send a config.json object.{hint}",
            )
        return preset_model(entry.repo_id)
    if isinstance(spec, dict):
        given = spec.get("_name_or_path")
        name = given if isinstance(given, str) and 0 < len(given) <= 200 else UPLOADED_CONFIG
        try:
            return model_from_hf_dict(spec, name=name, origin=f"{field} ({UPLOADED_CONFIG})")
        except (ValueError, TypeError) as exc:
            raise InputError(_field_in(field, str(exc), ()), str(exc)) from None
    raise InputError(
        field, f"{field} must be a preset id or a config.json object, got {type(spec).__name__}"
    )


def hardware_of(spec: Any, field: str = "hardware") -> Hardware:
    """A preset (by id, alias or name) or a device file's object."""
    if isinstance(spec, str):
        try:
            return get_hardware(spec)
        except ValueError as exc:
            raise InputError(field, f"{field}: {exc}") from None
    if isinstance(spec, dict):
        try:
            return hardware_from_dict(spec, origin=field)
        except (ValueError, TypeError) as exc:
            text = str(exc).removeprefix(f"{field}: ")
            raise InputError(_field_in(field, text, HARDWARE_FILE_FIELDS), str(exc)) from None
    raise InputError(
        field, f"{field} must be a preset id or a device-file object, got {type(spec).__name__}"
    )


def workload_of(values: Mapping[str, Any]) -> Workload:
    try:
        return Workload(**values)
    except (ValueError, TypeError) as exc:
        field = _field_in("workload", str(exc), WORKLOAD_FIELDS)
        raise InputError(field, f"workload: {exc}") from None


def layout_of(values: Mapping[str, Any]) -> Layout | None:
    """None for one device (the single-device analysis, as the CLI runs it), else the layout."""
    try:
        layout = Layout(**values)
    except (ValueError, TypeError) as exc:
        raise InputError(_field_in("layout", str(exc), LAYOUT_FIELDS), f"layout: {exc}") from None
    return None if layout == Layout() else layout


def _library_error(exc: Exception) -> InputError:
    """A ValueError from the engine about the combination of inputs, with its likely field."""
    text = str(exc)
    for prefix, names in (("layout", LAYOUT_FIELDS), ("workload", WORKLOAD_FIELDS)):
        field = _field_in(prefix, text, names)
        if field != prefix:
            return InputError(field, f"{prefix}: {text}")
    if text.startswith("efficiency_table"):
        return InputError(_field_in("hardware", text, HARDWARE_FILE_FIELDS), f"hardware: {text}")
    return InputError("body", text)


# ---- library calls ---------------------------------------------------------------------


def report_of(
    model: Model, hardware: Hardware, workload: Workload, layout: Layout | None
) -> Report:
    try:
        return analyze(model, hardware, workload, layout)
    except ValueError as exc:
        raise _library_error(exc) from None


def findings_of(
    model: Model, hardware: Hardware, workload: Workload, report: Report, layout: Layout | None
) -> list[str] | None:
    """The findings lines, on the report's layout."""
    return findings(model, hardware, workload, report, layout)


def page_document(
    model: Model,
    devices: Sequence[Hardware],
    workload: Workload,
    layout: Layout | None,
    *,
    with_findings: bool = True,
) -> dict[str, Any]:
    """The document the report page draws: ``{"reports": [...], "findings": [[...]] | null}``."""
    reports, lines = [], []
    for hardware in devices:
        report = report_of(model, hardware, workload, layout)
        reports.append(report.to_dict())
        if with_findings:
            lines.append(findings_of(model, hardware, workload, report, layout))
    has_findings = with_findings and all(f is not None for f in lines)
    return {"reports": reports, "findings": lines if has_findings else None}


def compare_columns(
    models: Sequence[tuple[str, Model]],
    devices: Sequence[tuple[str, Hardware]],
    workload: Workload,
    layout: Layout | None,
) -> list[dict[str, Any]]:
    """``compare --format json``: one ``{"column", "report"}`` per (model, device) pair."""
    try:
        columns = compare(models, devices, workload, layout)
    except ValueError as exc:
        raise _library_error(exc) from None
    return [{"column": heading, "report": report.to_dict()} for heading, report in columns]


PLAN_FIELDS = (
    "devices", "prompt_len", "output_len", "ttft_s", "tpot_s", "requests_per_s",
    "batch_sizes", "weight_dtypes", "kv_dtypes", "chunk_sizes", "tensor", "pipeline",
    "expert", "price_per_hour", "mode", "reserve_fraction", "kv_transfer_bytes_per_s",
    "activation_dtype", "weight", "objective",
)  # fmt: skip


PLAN_ALIASES = {"kv_dtype": "kv_dtypes", "weight_dtype": "weight_dtypes"}  # a list's value


def plan_of(
    model: Model,
    hardware: Sequence[Hardware],
    devices: Sequence[int],
    requests: Sequence[Mapping[str, Any]] | None,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """``plan --format json``: the best deployment, runner-ups, Pareto frontier, why."""
    classes = None
    if requests:
        classes = []
        for i, r in enumerate(requests):
            try:
                classes.append(RequestClass(**r))
            except (ValueError, TypeError) as exc:
                raise InputError(f"requests[{i}]", f"requests[{i}]: {exc}") from None
    opts = dict(options)
    try:
        workload = Workload(activation_dtype=opts.pop("activation_dtype"))
        result = plan(
            model, list(hardware), list(devices), requests=classes, workload=workload, **opts
        )
    except PlanInfeasible as exc:
        raise InputError("body", str(exc)) from None
    except (ValueError, TypeError) as exc:
        names = (*PLAN_FIELDS, *PLAN_ALIASES)
        field = _field_in("body", str(exc), names).removeprefix("body.")
        raise InputError(PLAN_ALIASES.get(field, field), str(exc)) from None
    return result.to_dict()


def curve_of(
    model: Model,
    hardware: Hardware,
    workload: Workload,
    layout: Layout | None,
    batch_sizes: Sequence[int],
    *,
    reserve_fraction: float,
    price_per_device_hour: float | None,
    chunk_size: int | None,
    speculative: tuple[Model, int, float] | None = None,
) -> ServingCurve:
    """``serve-curve --format json``'s curve (the chunk count is bounded for the server)."""
    too_fine = chunk_size is not None and chunk_size * MAX_PREFILL_CHUNKS < workload.prompt_len
    if too_fine and isinstance(chunk_size, int) and chunk_size >= 1:
        raise InputError(
            "chunk_size",
            f"chunk_size: {chunk_size} splits a prompt of {workload.prompt_len} tokens into more "
            f"than {MAX_PREFILL_CHUNKS} chunks, the most this server computes; use a larger chunk",
        )
    try:
        spec = None if speculative is None else SpeculativeConfig(*speculative)
        return serving_curve(
            model,
            hardware,
            workload,
            batch_sizes,
            layout,
            reserve_fraction=reserve_fraction,
            price_per_device_hour=price_per_device_hour,
            chunk_size=chunk_size,
            speculative=spec,
        )
    except (ValueError, TypeError) as exc:
        names = ("reserve_fraction", "price_per_device_hour", "chunk_size", "batch_sizes", "spec_k")
        field = _field_in("body", str(exc), names).removeprefix("body.")
        if field != "body":
            raise InputError(field, str(exc)) from None
        raise _library_error(exc) from None


# ---- catalogs and choices -------------------------------------------------------------


def model_presets() -> list[dict[str, Any]]:
    """Every built-in model with its key numbers."""
    out = []
    for entry in list_models():
        m = preset_model(entry.repo_id)
        out.append(
            {
                "id": entry.repo_id,
                "alias": entry.alias,
                "parameters": m.parameter_count,
                "active_parameters": m.active_parameter_count,
                "layers": m.num_layers,
                "hidden_size": m.hidden_size,
                "attention_heads": m.num_attention_heads,
                "kv_heads": m.num_key_value_heads,
                "moe": m.moe is not None,
                "mla": m.mla is not None,
                "max_position_embeddings": m.max_position_embeddings,
                "published_parameters": entry.published_parameters,
            }
        )
    return out


def hardware_presets() -> list[dict[str, Any]]:
    """Every built-in device with its roofs (SI units) and memory."""
    return [
        {
            "id": hw.id,
            "name": hw.name,
            "vendor": hw.vendor,
            "peak_flops_per_s": dict(hw.peak_flops_per_s),
            "bandwidth_bytes_per_s": hw.bandwidth_bytes_per_s,
            "memory_bytes": hw.memory_bytes,
            "interconnect_bytes_per_s": hw.interconnect_bytes_per_s,
        }
        for hw in list_hardware()
    ]


def _accepted(field: str, candidates: Sequence[str]) -> list[str]:
    """The candidates that the Workload's own validation accepts for ``field``."""
    ok = []
    for value in candidates:
        try:
            Workload(**{field: value})  # type: ignore[arg-type]  # a dtype field: str
        except (ValueError, TypeError):
            continue
        ok.append(value)
    return ok


def engine_choices() -> list[str]:
    """Engine profiles a Workload accepts; [] while Workload has no ``engine`` field."""
    if "engine" not in WORKLOAD_FIELDS:
        return []
    from ..inputs import workload as workload_module

    for name in ("ENGINE_PROFILES", "ENGINES"):
        known = getattr(workload_module, name, None)
        if isinstance(known, (tuple, list, Mapping)):
            return [str(e) for e in known]
    return []


def choices() -> dict[str, list[str]]:
    """The values each choice field of the Workload takes (found by asking it)."""
    text_fields = {
        name: value
        for name, value in field_defaults(Workload).items()
        if isinstance(value, str) and name != "engine"
    }
    out: dict[str, list[str]] = {}
    for name in text_fields:
        if name.endswith("_dtype"):
            out[name] = _accepted(name, STORAGE_DTYPES)
    from ..inputs import workload as workload_module

    for name, constant in (
        ("attention", "ATTENTION_IMPLEMENTATIONS"),
        ("logits", "LOGITS_MODES"),
        ("mla_decode", "MLA_DECODE_FORMS"),
    ):
        if name in text_fields:
            out[name] = list(getattr(workload_module, constant, (text_fields[name],)))
    out["engine"] = engine_choices()
    return out


def field_defaults(cls: type) -> dict[str, Any]:
    """A dataclass's defaults by field (None where a field has none or a factory)."""
    return {
        f.name: None if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(cls)
    }
