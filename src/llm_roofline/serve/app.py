"""The web app: the report page at ``/`` and the engine's public surface as a JSON API.

``create_app()`` returns a FastAPI application (OpenAPI schema at ``/openapi.json``, the
interactive docs at ``/docs``). Each route parses its body (``schemas``), calls one
function of ``service`` and returns the library's ``to_dict()``; no arithmetic here.
Every bad input is a 4xx ``{"error": "<message naming the field and value>", "field":
"<path in the body>"}``, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..engine.memory import DEFAULT_RESERVE_FRACTION
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from ..render.html import render_live_page
from ..studies.serving import DEFAULT_BATCH_SIZES
from . import service
from .schemas import (
    INT_LIMITS,
    MAX_BATCH_SIZES,
    MAX_BODY_BYTES,
    MAX_DEVICES,
    MAX_PLAN_DEVICES,
    MAX_PLAN_HARDWARE,
    AnalyzeRequest,
    CompareRequest,
    ErrorBody,
    PageRequest,
    PlanRequest,
    ServeCurveRequest,
    given,
)

DEFAULT_MODEL = "llama-3.1-8b"  # what the page shows first (the CLI's defaults)
DEFAULT_HARDWARE = "h100-sxm"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_ERROR_CHARS = 600
ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "the body is larger than the server takes"},
    422: {"model": ErrorBody, "description": "a bad value: the message names the field"},
}
PAGE_HEADERS = {  # the page loads nothing from elsewhere; its API calls are same-origin
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes is a 413, however it is sent."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # FastAPI re-raises an HTTPException from the body read
                raise HTTPException(413, _too_large_text(self.limit))
            return message

        await self.app(scope, counted, send)


def _too_large_text(limit: int) -> str:
    return f"body: larger than the {limit} bytes this server takes"


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": _too_large_text(limit), "field": "body"}, status_code=413)


def _error(status: int, message: str, field: str | None) -> JSONResponse:
    text = message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"
    return JSONResponse({"error": text, "field": field}, status_code=status)


def _validation_field(loc: Sequence[int | str]) -> str:
    """('body', 'workload', 'batch_size') -> 'workload.batch_size' (type tags dropped)."""
    parts: list[str] = []
    for item in loc[1:] if loc and loc[0] == "body" else loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.isidentifier() and item not in ("str", "dict", "int", "float", "bool", "list"):
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "body"


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    errors = exc.errors()
    first = errors[0]
    if first.get("type") == "json_invalid":
        where, why = first.get("loc", ("body", "?"))[-1], first.get("ctx", {}).get("error", "")
        return "body", f"body: invalid JSON at character {where}: {why}"
    field = _validation_field(first.get("loc", ()))
    messages = [str(first.get("msg", "invalid value"))]
    for other in errors[1:3]:  # a union's alternatives: "a valid string, or a valid dictionary"
        if _validation_field(other.get("loc", ())) == field and other.get("input") is first.get(
            "input"
        ):
            messages.append(str(other.get("msg", "")))
    message = ", or ".join(m[:1].lower() + m[1:] for m in messages)
    if first.get("type") != "missing" and "input" in first:
        shown = repr(first["input"])
        message += f", got {shown if len(shown) <= 80 else shown[:77] + '...'}"
    return field, f"{field}: {message}"


def _json(data: Any) -> Response:
    """The library's dict as JSON; a non-finite number (JSON has none) is the inputs' fault."""
    try:
        text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise service.InputError("body", "these inputs give a result that is not finite") from None
    return Response(text, media_type="application/json")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(service.InputError)
    async def input_error(request: Request, exc: service.InputError) -> JSONResponse:
        return _error(422, str(exc), exc.field)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        field, message = _validation_message(exc)
        return _error(422, message, field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        field = "body" if exc.status_code in (400, 413) else None
        return _error(exc.status_code, str(exc.detail), field)

    @app.exception_handler(Exception)  # a bug: the traceback goes to the server's log only
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error ({type(exc).__name__}); the server log has it", None)


def _version() -> str:
    try:
        return version("llm-roofline")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def create_app(allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS) -> FastAPI:
    """The application; ``allowed_hosts`` (Host header names) None accepts any host."""
    app = FastAPI(
        title="llm-roofline",
        version=_version(),
        summary="Operator-level roofline analysis of LLM inference, over HTTP.",
        description="POST the same inputs as the command line; get the same JSON "
        "documents back (docs/WEB.md). Every bad input is a 4xx naming the field.",
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    if allowed_hosts is not None:  # a page elsewhere cannot reach it by DNS rebinding
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    _handlers(app)
    _routes(app)
    return app


def _routes(app: FastAPI) -> None:
    page = render_live_page()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # none: an empty answer keeps the browser's console clean
        return Response(status_code=204)

    @app.get("/api/models", summary="model presets with their key numbers")
    def models() -> list[dict[str, Any]]:
        return service.model_presets()

    @app.get("/api/hardware", summary="device presets with their roofs")
    def hardware() -> list[dict[str, Any]]:
        return service.hardware_presets()

    @app.get("/api/options", summary="what the inputs take: defaults, choices, server bounds")
    def options() -> dict[str, Any]:
        return {
            "default_model": DEFAULT_MODEL,
            "default_hardware": DEFAULT_HARDWARE,
            "workload": service.field_defaults(Workload),
            "layout": service.field_defaults(Layout),
            "choices": service.choices(),
            "engines": service.engine_choices(),
            "serve_curve": {
                "batch_sizes": list(DEFAULT_BATCH_SIZES),
                "reserve_fraction": DEFAULT_RESERVE_FRACTION,
            },
            "limits": {
                **INT_LIMITS,
                "devices": MAX_DEVICES,
                "batch_sizes": MAX_BATCH_SIZES,
                "plan_hardware": MAX_PLAN_HARDWARE,
                "plan_devices": MAX_PLAN_DEVICES,
            },
        }

    @app.post("/api/analyze", summary="the Report JSON of analyze --format json", responses=ERRORS)
    def analyze(body: AnalyzeRequest) -> Response:
        model, workload, layout = _inputs(body)
        hw = service.hardware_of(body.hardware)
        return _json(service.report_of(model, hw, workload, layout).to_dict())

    @app.post("/api/findings", summary="the findings lines of one analysis", responses=ERRORS)
    def findings(body: AnalyzeRequest) -> Response:
        model, workload, layout = _inputs(body)
        hw = service.hardware_of(body.hardware)
        report = service.report_of(model, hw, workload, layout)
        return _json({"findings": service.findings_of(model, hw, workload, report, layout)})

    @app.post("/api/page", summary="the document the report page draws", responses=ERRORS)
    def page_data(body: PageRequest) -> Response:
        model, workload, layout = _inputs(body)
        devices = [service.hardware_of(h, f"hardware[{i}]") for i, h in enumerate(body.hardware)]
        return _json(
            service.page_document(model, devices, workload, layout, with_findings=body.findings)
        )

    @app.post("/api/compare", summary="compare --format json", responses=ERRORS)
    def compare(body: CompareRequest) -> Response:
        models = [
            (_label(m), service.model_of(m, f"models[{i}]")) for i, m in enumerate(body.models)
        ]
        devices = [
            (_label(h), service.hardware_of(h, f"hardware[{i}]"))
            for i, h in enumerate(body.hardware)
        ]
        workload, layout = _workload_layout(body)
        return _json(service.compare_columns(models, devices, workload, layout))

    @app.post("/api/plan", summary="plan --format json", responses=ERRORS)
    def plan_route(body: PlanRequest) -> Response:
        model = service.model_of(body.model)
        devices = [service.hardware_of(h, f"hardware[{i}]") for i, h in enumerate(body.hardware)]
        options = body.model_dump(exclude={"model", "hardware", "devices", "requests"})
        requests = None if body.requests is None else [r.model_dump() for r in body.requests]
        return _json(service.plan_of(model, devices, body.devices, requests, options))

    @app.post("/api/serve-curve", summary="serve-curve --format json", responses=ERRORS)
    def serve_curve(body: ServeCurveRequest) -> Response:
        model, workload, layout = _inputs(body)
        hw = service.hardware_of(body.hardware)
        curve = service.curve_of(
            model,
            hw,
            workload,
            layout,
            body.batch_sizes,
            reserve_fraction=body.reserve_fraction,
            price_per_device_hour=body.price_per_device_hour,
            chunk_size=body.chunk_size,
            speculative=_speculative(body),
        )
        return _json(curve.to_dict())


def _workload_layout(body: Any) -> tuple[Workload, Layout | None]:
    return service.workload_of(given(body.workload)), service.layout_of(given(body.layout))


def _inputs(body: Any) -> tuple[Model, Workload, Layout | None]:
    """The model, workload and layout of a request body, in the order they are reported."""
    model = service.model_of(body.model)
    return (model, *_workload_layout(body))


def _label(spec: Any) -> str:
    """A column heading: the preset id as given, or the uploaded object's name."""
    if isinstance(spec, str):
        return spec
    name = spec.get("name") or spec.get("_name_or_path")
    return name if isinstance(name, str) and name else service.UPLOADED_CONFIG


def _speculative(body: ServeCurveRequest) -> tuple[Model, int, float] | None:
    if body.draft_model is None:
        for name in ("spec_k", "spec_alpha"):
            if getattr(body, name) is not None:
                raise service.InputError(name, f"{name}: needs draft_model")
        return None
    for name in ("spec_k", "spec_alpha"):
        if getattr(body, name) is None:
            raise service.InputError(name, f"{name}: required with draft_model")
    draft = service.model_of(body.draft_model, "draft_model")
    return draft, int(body.spec_k or 0), float(body.spec_alpha or 0.0)
