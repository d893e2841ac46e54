"""The JSON API of `llm-roofline serve`, through FastAPI's test client (no server, no browser).

Each answer is checked against the library called directly and against the CLI's JSON;
each bad input against the message the library gives for it, with the field it names.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # after the skip: an optional extra

from conftest import TINY_HF_CONFIG as TINY_CONFIG
from conftest import TINY_HF_PARAMETERS
from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.serve.app import create_app
from llm_roofline.serve.schemas import MAX_BODY_BYTES
from llm_roofline.studies.findings import findings
from llm_roofline.studies.serving import serving_curve

DEVICE = {  # a device file's object, human units allowed as in a file
    "name": "Test GPU",
    "peak_flops_per_s": {"bf16": "100T"},
    "bandwidth_bytes_per_s": "1 TB/s",
    "memory_bytes": "16GB",
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(allowed_hosts=None))


def plain(data: Any) -> Any:
    """As JSON gives it back (tuples become lists)."""
    return json.loads(json.dumps(data))


def post(client: TestClient, path: str, body: Any) -> tuple[int, Any]:
    answer = client.post(path, json=body)
    return answer.status_code, answer.json()


# ---- good answers ----------------------------------------------------------------------


def test_analyze_is_the_report_of_the_library_and_of_the_cli(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"batch_size": 8}}
    status, data = post(client, "/api/analyze", body)
    assert status == 200
    expected = analyze(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload(batch_size=8))
    assert data == plain(expected.to_dict())
    assert data["schema"] == "llm-roofline/report/v2"
    # findings are their own endpoint (/api/findings): the same document as --no-findings
    assert main(["analyze", "--batch", "8", "--no-findings", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == data


def test_tensor_parallel_analysis_has_its_communication_operators(client: TestClient) -> None:
    body = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "layout": {"tensor": 2}}
    status, data = post(client, "/api/analyze", body)
    assert status == 200
    model, h100 = get_model("llama-3.1-70b"), get_hardware("h100-sxm")
    assert data == plain(analyze(model, h100, Workload(), Layout(tensor=2)).to_dict())
    assert data["parallelism"]["devices"] == 2 and data["parallelism"]["tensor"] == 2
    rows = {row["name"]: row for row in data["phases"]["decode"]["operators"]}
    for name in ("attn_all_reduce", "mlp_all_reduce"):
        assert rows[name]["kind"] == "communication"
        assert rows[name]["count"] == 80  # one per layer: Llama-3.1-70B has 80
        assert rows[name]["comm_bytes"] > 0


def test_a_layout_of_ones_is_the_single_device_analysis(client: TestClient) -> None:
    ones = {"tensor": 1, "pipeline": 1, "expert": 1, "data": 1, "micro_batches": 1}
    _, with_ones = post(
        client, "/api/analyze", {"model": "qwen2.5-0.5b", "hardware": "l4", "layout": ones}
    )
    _, without = post(client, "/api/analyze", {"model": "qwen2.5-0.5b", "hardware": "l4"})
    assert with_ones == without and without.get("parallelism") is None


def test_uploaded_config_and_device_file_are_read_as_data(client: TestClient) -> None:
    body = {"model": TINY_CONFIG, "hardware": DEVICE, "workload": {"prompt_len": 16}}
    status, data = post(client, "/api/analyze", body)
    assert status == 200
    assert data["model"]["name"] == "tiny-llama" and data["model"]["layers"] == 2
    assert data["model"]["parameters"] == TINY_HF_PARAMETERS
    assert data["hardware"]["name"] == "Test GPU"
    assert data["hardware"]["bandwidth_bytes_per_s"] == 1e12
    assert data["hardware"]["memory_bytes"] == 16e9
    assert data["peak_flops_per_s"] == 100e12


def test_page_document_holds_one_report_and_findings_per_device(client: TestClient) -> None:
    body = {
        "model": "llama-3.1-8b",
        "hardware": ["h100-sxm", "h200"],
        "workload": {"batch_size": 4},
    }
    status, data = post(client, "/api/page", body)
    assert status == 200
    model, w = get_model("llama-3.1-8b"), Workload(batch_size=4)
    for i, device in enumerate(("h100-sxm", "h200")):
        report = analyze(model, get_hardware(device), w)
        assert data["reports"][i] == plain(report.to_dict())
        assert data["findings"][i] == findings(model, get_hardware(device), w, report)
    _, none = post(client, "/api/page", {**body, "findings": False})
    assert none["findings"] is None and none["reports"] == data["reports"]


def test_findings_endpoint(client: TestClient) -> None:
    status, data = post(client, "/api/findings", {"model": "llama-3.1-8b", "hardware": "h100-sxm"})
    assert status == 200 and data["findings"] and all(isinstance(x, str) for x in data["findings"])


def test_compare_is_compare_format_json(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"models": ["llama-3.1-8b"], "hardware": ["h100-sxm", "a100-sxm-80gb"]}
    status, data = post(client, "/api/compare", body)
    assert status == 200
    main(["compare", "--hardware", "h100-sxm,a100-sxm-80gb", "--format", "json"])
    assert data == json.loads(capsys.readouterr().out)
    assert [c["column"] for c in data] == ["h100-sxm", "a100-sxm-80gb"]


def test_serve_curve_is_serve_curve_format_json(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "model": "llama-3.1-70b",
        "hardware": "h100-sxm",
        "layout": {"tensor": 8},
        "batch_sizes": [1, 8, 64],
        "price_per_device_hour": 2.5,
        "chunk_size": 512,
    }
    status, data = post(client, "/api/serve-curve", body)
    assert status == 200
    argv = ["serve-curve", "--model", "llama-3.1-70b", "--tp", "8", "--batch-sizes", "1,8,64"]
    main([*argv, "--price-per-hour", "2.5", "--chunk-size", "512", "--format", "json"])
    assert data == json.loads(capsys.readouterr().out)
    assert [p["batch_size"] for p in data["points"]] == [1, 8, 64]
    # cost = price × devices / 3600 / (tokens/s) × 10^6, per point
    point = data["points"][1]
    assert point["cost_per_million_tokens"] == pytest.approx(
        2.5 * 8 / 3600 / point["output_tokens_per_s"] * 1e6
    )


def test_plan_is_plan_format_json(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {
        "model": "llama-3.1-8b",
        "hardware": ["h100-sxm"],
        "devices": [4],
        "tpot_s": 0.02,
        "kv_dtypes": ["bf16", "fp8"],
        "requests_per_s": 2.0,
    }
    status, data = post(client, "/api/plan", body)
    assert status == 200, data
    argv = ["plan", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--devices", "4"]
    main([*argv, "--tpot-ms", "20", "--kv-dtype", "bf16,fp8", "--rate", "2", "--format", "json"])
    cli = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in data.items() if k != "seconds"} == {
        k: v for k, v in cli.items() if k != "seconds"
    }
    best = data["best"]
    assert best["tpot_s"] <= 0.02 and best["requests_per_s"] >= 2.0
    assert best["requests_per_s"] == pytest.approx(best["tokens_per_s"] / 256)  # output 256


def test_serve_curve_with_a_draft_model(client: TestClient) -> None:
    body = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "batch_sizes": [1, 4]}
    spec = {"draft_model": "llama-3.2-1b", "spec_k": 4, "spec_alpha": 0.8}
    status, data = post(client, "/api/serve-curve", {**body, **spec})
    assert status == 200 and data["speculative"] == {
        "draft": "meta-llama/Llama-3.2-1B",
        "k": 4,
        "alpha": 0.8,
    }
    curve = serving_curve(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload(), [1, 4])
    assert [p["tpot_s"] for p in data["points"]] == [p.tpot_s for p in curve.points]


def test_catalog_listings(client: TestClient) -> None:
    models = client.get("/api/models").json()
    llama = next(m for m in models if m["id"] == "meta-llama/Llama-3.1-8B")
    assert llama["alias"] == "llama-3.1-8b" and llama["layers"] == 32 and llama["kv_heads"] == 8
    devices = {d["id"]: d for d in client.get("/api/hardware").json()}
    h100 = devices["h100-sxm"]  # the datasheet's figures (docs/HARDWARE.md)
    assert h100["bandwidth_bytes_per_s"] == 3.35e12 and h100["memory_bytes"] == 80e9
    assert h100["peak_flops_per_s"]["bf16"] == 989.4e12


def test_options_name_the_defaults_and_choices(client: TestClient) -> None:
    data = client.get("/api/options").json()
    assert data["workload"]["batch_size"] == 1 and data["workload"]["prompt_len"] == 2048
    assert data["layout"] == {
        "tensor": 1,
        "pipeline": 1,
        "expert": 1,
        "data": 1,
        "micro_batches": 1,
    }
    assert data["choices"]["attention"] == ["flash", "eager"]
    assert (
        "int4" in data["choices"]["weight_dtype"]
        and "int4" not in data["choices"]["activation_dtype"]
    )
    assert data["engines"] == ([] if "engine" not in data["workload"] else data["engines"])


def test_page_openapi_and_docs_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '{"reports":[],"findings":null}' in page.text  # nothing embedded: it fetches
    assert 'fetch("api/" + path' in page.text  # the controls script is there
    schema = client.get("/openapi.json").json()
    assert {"/api/analyze", "/api/page", "/api/compare", "/api/serve-curve"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200
    assert client.get("/favicon.ico").status_code == 204


# ---- bad input: 4xx JSON naming the field --------------------------------------------

OK = {"model": "llama-3.1-8b", "hardware": "h100-sxm"}
PLAN = {"model": "llama-3.1-8b", "hardware": ["h100-sxm"], "devices": [2], "batch_sizes": [1, 8]}


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        (
            {**OK, "workload": {"batch_size": 0}},
            "workload.batch_size",
            "batch_size = 0 is outside the plausible range 1 to 10,000,000",
        ),
        ({**OK, "workload": {"batch_size": "8"}}, "workload.batch_size", "valid integer, got '8'"),
        ({**OK, "workload": {"batch_size": True}}, "workload.batch_size", "valid integer"),
        (
            {**OK, "workload": {"batch_size": 1 << 17}},
            "workload.batch_size",
            "less than or equal to 65536",
        ),
        ({**OK, "workload": {"kv_dtype": "fp7"}}, "workload.kv_dtype", "got 'fp7'"),
        ({**OK, "workload": {"attention": "sparse"}}, "workload.attention", "sparse"),
        ({**OK, "workload": {"nope": 1}}, "workload.nope", "extra inputs"),
        (
            {**OK, "layout": {"tensor": 3}},
            "layout.tensor",
            "tensor (3) must divide num_attention_heads (32)",
        ),
        ({**OK, "layout": {"expert": 2}}, "layout.expert", "mixture-of-experts"),
        (
            {**OK, "layout": {"tensor": 0}},
            "layout.tensor",
            "tensor = 0 is outside the plausible range 1 to 65,536",
        ),
        ({**OK, "model": "no-such-model"}, "model", "unknown model preset 'no-such-model'"),
        ({**OK, "model": "/etc/passwd"}, "model", "unknown model preset '/etc/passwd'"),
        ({**OK, "model": "../catalog/data/models/index.json"}, "model", "unknown model preset"),
        ({**OK, "model": 7}, "model", "valid string, or input should be a valid dictionary, got 7"),
        ({**OK, "model": {"model_type": "gpt9"}}, "model.model_type", "'gpt9' is not supported"),
        ({**OK, "model": {**TINY_CONFIG, "hidden_size": -1}}, "model.hidden_size", "hidden_size"),
        ({**OK, "hardware": "/etc/hosts.json"}, "hardware", "unknown hardware"),
        ({**OK, "hardware": {"name": "X"}}, "hardware.bandwidth_bytes_per_s", "missing key"),
        (
            {**OK, "hardware": {**DEVICE, "memory_bytes": "-1GB"}},
            "hardware.memory_bytes",
            "memory_bytes",
        ),
        ({**OK, "hardware": {**DEVICE, "kind": "x"}}, "hardware.kind", "kind must be"),
        ({"hardware": "h100-sxm"}, "model", "model: field required"),
        ({**OK, "extra": 1}, "extra", "extra inputs are not permitted"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, needle: str
) -> None:
    status, data = post(client, "/api/analyze", body)
    assert status == 422, data
    assert set(data) == {"error", "field"}
    assert data["field"] == field
    assert needle in data["error"]
    assert "Traceback" not in data["error"]


def test_library_messages_reach_the_client_unchanged(client: TestClient) -> None:
    with pytest.raises(ValueError) as raised:
        Workload(batch_size=0)
    _, data = post(client, "/api/analyze", {**OK, "workload": {"batch_size": 0}})
    assert data["error"] == f"workload: {raised.value}"


@pytest.mark.parametrize(
    ("path", "body", "field", "needle"),
    [
        ("/api/page", {**OK, "hardware": []}, "hardware", "at least 1 item"),
        (
            "/api/page",
            {**OK, "hardware": ["h100-sxm", "nope"]},
            "hardware[1]",
            "unknown hardware 'nope'",
        ),
        ("/api/page", {**OK, "hardware": ["h100-sxm"] * 9}, "hardware", "at most 8 items"),
        ("/api/compare", {"models": [], "hardware": ["h100-sxm"]}, "models", "at least 1 item"),
        (
            "/api/compare",
            {"models": ["x"], "hardware": ["h100-sxm"]},
            "models[0]",
            "unknown model preset 'x'",
        ),
        (
            "/api/serve-curve",
            {**OK, "batch_sizes": [0]},
            "batch_sizes",
            "batch_sizes[] = 0 is outside the plausible range 1 to 10,000,000",
        ),
        ("/api/serve-curve", {**OK, "reserve_fraction": 1.5}, "reserve_fraction", "[0, 1)"),
        ("/api/serve-curve", {**OK, "price_per_device_hour": -1}, "price_per_device_hour", ">= 0"),
        (
            "/api/serve-curve",
            {**OK, "chunk_size": 0},
            "chunk_size",
            "chunk_size = 0 is outside the plausible range",
        ),
        ("/api/serve-curve", {**OK, "chunk_size": 4}, "chunk_size", "more than 256 chunks"),
        ("/api/serve-curve", {**OK, "spec_k": 4}, "spec_k", "needs draft_model"),
        ("/api/plan", {**PLAN, "devices": [0]}, "devices", "devices must be >= 1, got 0"),
        ("/api/plan", {**PLAN, "devices": [128]}, "devices[0]", "less than or equal to 64"),
        ("/api/plan", {**PLAN, "mode": "sideways"}, "mode", "got 'sideways'"),
        ("/api/plan", {**PLAN, "kv_dtypes": ["bf17"]}, "kv_dtypes", "got 'bf17'"),
        ("/api/plan", {**PLAN, "requests_per_s": -1}, "requests_per_s", "> 0, got -1"),
        (
            "/api/plan",
            {**PLAN, "requests": [{"prompt_len": 0, "output_len": 8}]},
            "requests[0]",
            "prompt_len must be >= 1, got 0",
        ),
        ("/api/plan", {**PLAN, "tpot_s": 1e-5}, "body", "TPOT fails first"),
        (
            "/api/serve-curve",
            {**OK, "draft_model": "llama-3.2-1b"},
            "spec_k",
            "required with draft_model",
        ),
        (
            "/api/serve-curve",
            {**OK, "draft_model": "x", "spec_k": 2, "spec_alpha": 0.5},
            "draft_model",
            "unknown model preset",
        ),
        (
            "/api/serve-curve",
            {**OK, "draft_model": "llama-3.2-1b", "spec_k": 2, "spec_alpha": 2},
            "body",
            "alpha",
        ),
    ],
)
def test_bad_input_on_every_endpoint(
    client: TestClient, path: str, body: dict[str, Any], field: str, needle: str
) -> None:
    status, data = post(client, path, body)
    assert status == 422, data
    assert data["field"] == field and needle in data["error"], data


def test_bodies_that_are_not_json_or_too_large(client: TestClient) -> None:
    answer = client.post(
        "/api/analyze", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "body: invalid JSON at character 1: Expecting property name enclosed in double quotes",
        "field": "body",
    }
    big = b" " * (MAX_BODY_BYTES + 1)
    answer = client.post("/api/analyze", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["field"] == "body"
    deep = b"[" * 200_000  # under the limit, but deeper than the JSON parser goes
    answer = client.post("/api/analyze", content=deep, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500 and answer.json()["field"] == "body"
    nan = b'{"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"batch_size": NaN}}'
    answer = client.post("/api/analyze", content=nan, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["field"] == "workload.batch_size"


def test_streamed_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(3):
            yield b" " * (MAX_BODY_BYTES // 2)

    answer = client.post(
        "/api/analyze", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert client.get("/api/nope").json() == {"error": "Not Found", "field": None}
    assert client.get("/api/analyze").status_code == 405


def test_loopback_only_host_check() -> None:
    local = TestClient(create_app(), base_url="http://127.0.0.1:8000")
    assert local.get("/api/options").status_code == 200
    elsewhere = TestClient(create_app(), base_url="http://attacker.example")
    assert elsewhere.get("/api/options").status_code == 400  # DNS rebinding is refused


def test_findings_follow_the_layout() -> None:
    """/api/findings on TP 2 gives the library's findings for that layout (weights per
    device are half of the 141 GB of Llama-3.1-70B)."""
    from llm_roofline.serve import service

    model, h100, w = get_model("llama-3.1-70b"), get_hardware("h100-sxm"), Workload()
    layout = Layout(tensor=2)
    report = analyze(model, h100, w, layout)
    lines = service.findings_of(model, h100, w, report, layout)
    assert lines == findings(model, h100, w, report, layout)
    assert lines and any("memory" in line for line in lines)
