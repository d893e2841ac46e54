"""The request bodies of the JSON API (pydantic models; they are the OpenAPI schema).

They check JSON types and the server's bounds only (strict: ``"8"`` is not 8, ``true`` is
not 1, no NaN). Value ranges, dtype names and choices are left to the library's own
validation, so the API says exactly what ``Workload(...)`` or ``Layout(...)`` says.

The workload and layout objects are built from the ``Workload`` and ``Layout`` dataclasses'
fields, so a field added there is accepted here under its own name.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, create_model

from ..engine.memory import DEFAULT_RESERVE_FRACTION
from ..inputs.layout import Layout
from ..inputs.workload import Workload
from ..studies.plan import DEFAULT_BATCH_SIZES as PLAN_BATCH_SIZES
from ..studies.serving import DEFAULT_BATCH_SIZES

MAX_BODY_BYTES = 1 << 20  # a request body (an uploaded config.json is a few kB)
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 64  # a dtype or choice value
MAX_DEVICES = 8  # devices on one page or in one comparison
MAX_MODELS = 4
MAX_BATCH_SIZES = 32
# The largest value the server computes for an integer field (bounds on request size and
# time; the library still checks every lower bound and cross-field rule).
INT_LIMITS: dict[str, int] = {
    "batch_size": 1 << 16,
    "prompt_len": 1 << 20,
    "context_len": 1 << 20,
    "output_len": 1 << 20,
    "weight_group_size": 1 << 16,
    "tensor": 1024,
    "pipeline": 1024,
    "expert": 1024,
    "data": 1 << 16,
    "micro_batches": 1024,
    "chunk_size": 1 << 20,
    "spec_k": 64,
}
DEFAULT_INT_LIMIT = 1 << 20

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Number = StrictInt | StrictFloat
ModelSpec = Annotated[
    Name | dict[str, Any],
    Field(
        description="A preset id or alias (GET /api/models), or a Hugging Face config.json "
        "object (parsed as data; its code references are ignored).",
        examples=["llama-3.1-8b"],
    ),
]
HardwareSpec = Annotated[
    Name | dict[str, Any],
    Field(
        description="A preset id, alias or name (GET /api/hardware), or a device file's "
        "object (docs/HARDWARE.md: name, peak_flops_per_s, bandwidth_bytes_per_s, "
        "memory_bytes, ...).",
        examples=["h100-sxm"],
    ),
]


def _json_type(name: str, hint: Any) -> Any:
    """The strict JSON type of one dataclass field, bounded for the server."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0] if len(args) == 1 else Any
    if hint is bool:
        base: Any = StrictBool
    elif hint is int:
        base = Annotated[StrictInt, Field(le=INT_LIMITS.get(name, DEFAULT_INT_LIMIT))]
    elif hint is float:
        base = Number
    elif hint is str:
        base = Text
    else:  # a field type this module does not know: JSON, checked by the dataclass
        base = Any
    return base | None if optional else base


def _fields_model(cls: type, name: str) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        default = None if f.default is dataclasses.MISSING else f.default
        spec[f.name] = (_json_type(f.name, hints[f.name]), Field(default=default))
    doc = (
        f"The fields of llm_roofline's {cls.__name__}, by name; each omitted one keeps its default."
    )
    model: type[BaseModel] = create_model(name, __config__=STRICT, __doc__=doc, **spec)
    return model


if TYPE_CHECKING:
    WorkloadFields = BaseModel
    LayoutFields = BaseModel
else:
    WorkloadFields = _fields_model(Workload, "WorkloadFields")
    LayoutFields = _fields_model(Layout, "LayoutFields")


def given(fields: BaseModel) -> dict[str, Any]:
    """The fields a request set (the rest keep the dataclass's defaults)."""
    return fields.model_dump(exclude_unset=True)


class _Inputs(BaseModel):
    model_config = STRICT
    workload: WorkloadFields = Field(default_factory=WorkloadFields)
    layout: LayoutFields = Field(
        default_factory=LayoutFields,
        description="Tensor, pipeline, expert and data degrees and micro-batches "
        "(docs/PARALLELISM.md); all ones, the default, is one device.",
    )


class AnalyzeRequest(_Inputs):
    """One model on one device (or layout): the body of POST /api/analyze and /api/findings."""

    model: ModelSpec
    hardware: HardwareSpec


class PageRequest(_Inputs):
    """One model on one or more devices: the document the report page draws."""

    model: ModelSpec
    hardware: list[HardwareSpec] = Field(min_length=1, max_length=MAX_DEVICES)
    findings: StrictBool = True


class CompareRequest(_Inputs):
    """Every (model, device) pair: the body of POST /api/compare."""

    models: list[ModelSpec] = Field(min_length=1, max_length=MAX_MODELS)
    hardware: list[HardwareSpec] = Field(min_length=1, max_length=MAX_DEVICES)


class ServeCurveRequest(_Inputs):
    """Throughput against latency, memory and cost across batch sizes."""

    model: ModelSpec
    hardware: HardwareSpec
    batch_sizes: list[Annotated[StrictInt, Field(le=INT_LIMITS["batch_size"])]] = Field(
        default=list(DEFAULT_BATCH_SIZES), min_length=1, max_length=MAX_BATCH_SIZES
    )
    reserve_fraction: Number = Field(
        default=DEFAULT_RESERVE_FRACTION, description="of each device's memory kept free"
    )
    price_per_device_hour: Number | None = Field(
        default=None, description="the price of one device-hour: adds the cost per million tokens"
    )
    chunk_size: Annotated[StrictInt, Field(le=INT_LIMITS["chunk_size"])] | None = Field(
        default=None, description="TTFT with chunked prefill of this many tokens"
    )
    draft_model: Name | None = Field(
        default=None, description="a model preset id: speculative decoding with this draft"
    )
    spec_k: Annotated[StrictInt, Field(le=INT_LIMITS["spec_k"])] | None = Field(
        default=None, description="draft tokens per step (with draft_model)"
    )
    spec_alpha: Number | None = Field(
        default=None, description="acceptance rate per draft token (with draft_model)"
    )


# plan's search grows with device types × formats × chunk sizes × the layouts of each total:
# bounded so one request stays within seconds.
MAX_PLAN_DEVICES = 64
MAX_PLAN_TOTALS = 4
MAX_PLAN_HARDWARE = 4
MAX_PLAN_BATCH_SIZES = 512
MAX_PLAN_FORMATS = 4
MAX_REQUEST_CLASSES = 32
Degree = Annotated[StrictInt, Field(le=MAX_PLAN_DEVICES)]


class RequestClassFields(BaseModel):
    """Requests of one shape; ``weight`` is their share of all requests."""

    model_config = STRICT
    prompt_len: Annotated[StrictInt, Field(le=INT_LIMITS["prompt_len"])]
    output_len: Annotated[StrictInt, Field(le=INT_LIMITS["output_len"])]
    weight: Number = 1.0


class PlanRequest(BaseModel):
    """The best deployment under TTFT/TPOT/rate limits: plan --format json (docs/PLAN.md)."""

    model_config = STRICT
    model: ModelSpec
    hardware: list[HardwareSpec] = Field(min_length=1, max_length=MAX_PLAN_HARDWARE)
    devices: list[Degree] = Field(
        min_length=1, max_length=MAX_PLAN_TOTALS, description="device totals to search"
    )
    prompt_len: Annotated[StrictInt, Field(le=INT_LIMITS["prompt_len"])] = 2048
    output_len: Annotated[StrictInt, Field(le=INT_LIMITS["output_len"])] = 256
    requests: list[RequestClassFields] | None = Field(
        default=None, max_length=MAX_REQUEST_CLASSES, description="a mix (instead of the lengths)"
    )
    ttft_s: Number | None = Field(default=None, description="time to first token limit")
    tpot_s: Number | None = Field(default=None, description="time per output token limit")
    requests_per_s: Number | None = Field(default=None, description="request rate to sustain")
    batch_sizes: list[Annotated[StrictInt, Field(le=INT_LIMITS["batch_size"])]] = Field(
        default=list(PLAN_BATCH_SIZES), min_length=1, max_length=MAX_PLAN_BATCH_SIZES
    )
    weight_dtypes: list[Text] = Field(default=["bf16"], min_length=1, max_length=MAX_PLAN_FORMATS)
    kv_dtypes: list[Text] = Field(default=["bf16"], min_length=1, max_length=MAX_PLAN_FORMATS)
    chunk_sizes: list[Annotated[StrictInt, Field(le=INT_LIMITS["chunk_size"])] | None] = Field(
        default=[None], min_length=1, max_length=MAX_PLAN_FORMATS
    )
    tensor: list[Degree] | None = Field(default=None, max_length=16)
    pipeline: list[Degree] | None = Field(default=None, max_length=16)
    expert: list[Degree] | None = Field(default=None, max_length=16)
    activation_dtype: Text = "bf16"
    price_per_hour: Number | dict[Name, Number] | None = Field(
        default=None, description="per device-hour: one price, or one per device id"
    )
    mode: Text = Field(default="aggregated", description="aggregated, disaggregated or both")
    reserve_fraction: Number = DEFAULT_RESERVE_FRACTION
    kv_transfer_bytes_per_s: Number | None = None
    top: Annotated[StrictInt, Field(ge=1, le=20)] = 5


class ErrorBody(BaseModel):
    """Every 4xx answer: one message naming the field and the value."""

    error: str = Field(examples=["workload: batch_size must be >= 1, got 0"])
    field: str | None = Field(examples=["workload.batch_size"])
