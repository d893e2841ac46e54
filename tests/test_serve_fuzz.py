"""Fuzzing the JSON API from its own OpenAPI schema (schemathesis): no input is a 500.

Schemathesis generates bodies from ``/openapi.json`` (valid ones and, in negative mode,
ones that break the schema) for every operation and sends them through the ASGI app; the
only check is the one the issue asks for: the server never answers 5xx. The examples per
operation are bounded so that the whole run takes well under 30 s on two cores.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from llm_roofline.serve.app import create_app  # noqa: E402

EXAMPLES_PER_OPERATION = 12
APP = create_app(allowed_hosts=None)
CLIENT = TestClient(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same bodies every run: a failure here is reproducible
)
def test_no_input_is_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "field"}, body


# ---- bodies the schema allows, aimed at the engine --------------------------------------
# Random strings rarely name a preset, so the schema-driven run mostly meets "unknown
# model". Here hypothesis draws real presets and devices with workload and layout values
# from below each lower bound to above each server bound, so every body reaches the
# library's validation or a real analysis.

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from llm_roofline.serve.schemas import INT_LIMITS  # noqa: E402

MODELS = [
    "llama-3.1-8b",
    "mixtral-8x7b",
    "deepseek-v2-lite",
    "gemma-3-27b-it",
    "gpt-oss-20b",
    "gpt2",
]
DEVICES = ["h100-sxm", "mi300x", "rtx-4090", "t4"]
DTYPES = ["fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4", "bfloat16", "nope"]


def around(name: str) -> st.SearchStrategy[int]:
    """Whole numbers from below the library's minimum to just past the server's bound."""
    top = INT_LIMITS[name]
    return st.one_of(st.integers(-2, 8), st.integers(1, top + 1), st.sampled_from([top, top + 1]))


WORKLOADS = st.fixed_dictionaries(
    {},
    optional={
        "batch_size": around("batch_size"),
        "prompt_len": around("prompt_len"),
        "context_len": st.one_of(st.none(), around("context_len")),
        "output_len": around("output_len"),
        "weight_dtype": st.sampled_from(DTYPES),
        "activation_dtype": st.sampled_from(DTYPES),
        "kv_dtype": st.sampled_from(DTYPES),
        "attention": st.sampled_from(["flash", "eager", "other"]),
    },
)
LAYOUTS = st.fixed_dictionaries(
    {},
    optional={
        "tensor": st.sampled_from([0, 1, 2, 3, 4, 8, 1024, 1025]),
        "pipeline": st.sampled_from([1, 2, 4, 1000]),
        "expert": st.sampled_from([1, 2, 8]),
        "data": st.sampled_from([1, 2, 0]),
        "micro_batches": st.sampled_from([1, 2, 8, 1024]),
    },
)
DEVICE_FILES = st.fixed_dictionaries(
    {
        "name": st.text(min_size=0, max_size=8),
        "peak_flops_per_s": st.dictionaries(
            st.sampled_from(DTYPES),
            st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6)),
            max_size=2,
        ),
        "bandwidth_bytes_per_s": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["1 TB/s", "x"])
        ),
        "memory_bytes": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["16GB", "-1GB"])
        ),
    }
)


def test_engine_bodies_are_never_a_server_error() -> None:
    seen: dict[int, int] = {}

    @settings(
        max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(
        model=st.sampled_from(MODELS),
        hardware=st.one_of(st.sampled_from(DEVICES), DEVICE_FILES),
        workload=WORKLOADS,
        layout=LAYOUTS,
        path=st.sampled_from(["/api/analyze", "/api/page", "/api/serve-curve"]),
    )
    def one(model: str, hardware: object, workload: dict, layout: dict, path: str) -> None:  # type: ignore[type-arg]
        body = {"model": model, "hardware": [hardware] if path == "/api/page" else hardware}
        body |= {"workload": workload, "layout": layout}
        if path == "/api/serve-curve":
            body["batch_sizes"] = [1, 16]
        response = CLIENT.post(path, json=body)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code in (200, 422), (body, response.text[:500])

    one()
    assert seen.get(200, 0) >= 30, seen  # many bodies reach a real analysis, not only checks
