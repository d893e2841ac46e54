"""The live page in a real browser: `llm-roofline serve` on a free loopback port, driven by
Playwright through headless Chromium (Debian's `chromium` package; nothing is downloaded).

Every number the page shows is checked against the API's answer for the same inputs, and
its text against the page's formatting rule written out here by hand. Without Chromium or
Playwright these tests are skipped with the reason, except in CI (CI=true), where they
fail: CI installs both (.ci/run). With LLM_ROOFLINE_SCREENSHOTS=DIR the screenshots are
also written to DIR (`make screenshots` writes the ones docs/WEB.md shows).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

import llm_roofline  # noqa: E402
from conftest import TINY_HF_CONFIG as TINY_CONFIG  # noqa: E402

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")
START_TIMEOUT_S = 60


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs it)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("LLM_ROOFLINE_CHROMIUM"), *CHROMIUM_CANDIDATES):
        found = candidate and (shutil.which(candidate) or None)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`llm-roofline serve --port 0` as a child process; yields its URL."""
    src = str(Path(llm_roofline.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_roofline", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "serving on" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT_S):
            pytest.fail(f"the app did not start: {''.join(lines)}")
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", "".join(lines))
        assert match, lines
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium found (apt-get install chromium, or set LLM_ROOFLINE_CHROMIUM)")
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chrome
        chrome.close()


class Page:
    """A browser page on the app that records console errors."""

    def __init__(self, browser: Any, url: str, width: int = 1280, height: int = 900) -> None:
        self.url = url
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, query: str = "") -> Any:
        self.page.goto(self.url + query)
        return self.settle()

    def settle(self) -> str:
        """Wait until the last change has been analyzed (or refused); return the state."""
        self.page.wait_for_function(
            "() => ['ready', 'error'].includes(document.getElementById('live').dataset.state)",
            timeout=30_000,
        )
        return str(self.page.get_attribute("#live", "data-state"))

    def value(self, selector: str) -> float:
        return float(self.page.get_attribute(selector, "data-value"))

    def text(self, selector: str) -> str:
        return str(self.page.text_content(selector)).strip()

    def shot(self, name: str, tmp: Path) -> None:
        self.page.screenshot(path=str(tmp / name), full_page=True)
        folder = os.environ.get("LLM_ROOFLINE_SCREENSHOTS")
        if folder:
            shutil.copy(tmp / name, Path(folder) / name)


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Page]:
    p = Page(browser, server)
    yield p
    p.page.close()


def api(server: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    answer = httpx.post(server + path.lstrip("/"), json=body, timeout=60)
    return answer.status_code, answer.json()


def secs(value: float) -> str:
    """The page's time format by hand: 3 significant figures in s, ms, µs or ns."""
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or unit == "ns":
            m = value / scale
            return (
                f"{m:.2f} {unit}" if m < 10 else f"{m:.1f} {unit}" if m < 100 else f"{m:.0f} {unit}"
            )
    raise AssertionError(value)


def shows_report(p: Page, report: dict[str, Any]) -> None:
    """The verdict cards and the TPOT/TTFT tiles hold exactly the report's numbers."""
    for phase in ("prefill", "decode"):
        card = f"[data-phase={phase}]"
        assert p.page.get_attribute(card, "data-bound") == report["phases"][phase]["bound"]
        assert p.text(f"{card} .badge") == report["phases"][phase]["bound"]
    metrics = report["metrics"]
    for label, key in (("TPOT", "tpot_s"), ("TTFT", "ttft_s")):
        tile = f"[data-metric={label}] .big"
        assert p.value(tile) == metrics[key]  # the same float, through JSON and the DOM
        assert p.text(tile) == secs(metrics[key])


def test_the_page_shows_the_api_numbers_and_follows_batch_and_device(
    page: Page, server: str, tmp_path: Path
) -> None:
    assert page.open("?model=llama-3.1-8b&hw=h100-sxm") == "ready"
    body: dict[str, Any] = {"model": "llama-3.1-8b", "hardware": "h100-sxm"}
    shows_report(page, api(server, "api/analyze", body)[1])

    page.page.fill("#ctl-batch", "32")
    assert page.settle() == "ready"
    body["workload"] = {"batch_size": 32}
    status, report = api(server, "api/analyze", body)
    assert status == 200 and report["workload"]["batch_size"] == 32
    shows_report(page, report)
    assert "batch=32" in page.page.url

    page.page.check("#dev-h200")
    assert page.settle() == "ready"
    assert "hw=h100-sxm%2Ch200" in page.page.url
    page.page.click("section:has(h2:text-is('Devices')) .pills button:text-is('h200')")
    shows_report(page, api(server, "api/analyze", {**body, "hardware": "h200"})[1])
    assert page.text("h1") == "meta-llama/Llama-3.1-8B on NVIDIA H200 SXM 141GB"
    page.shot("web-live.png", tmp_path)
    assert page.errors == []


def test_the_url_holds_the_state(page: Page, server: str) -> None:
    assert page.open("?model=qwen2.5-7b&hw=l40s&batch=16&kv=fp8&prompt=512") == "ready"
    assert page.page.input_value("#ctl-batch") == "16"
    assert page.page.input_value("#ctl-kv") == "fp8"
    assert page.page.is_checked("#dev-l40s") and not page.page.is_checked("#dev-h100-sxm")
    body = {"model": "qwen2.5-7b", "hardware": "l40s"}
    body |= {"workload": {"batch_size": 16, "kv_dtype": "fp8", "prompt_len": 512}}
    shows_report(page, api(server, "api/analyze", body)[1])
    assert page.errors == []


def test_an_uploaded_config_is_analyzed(page: Page, server: str, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(TINY_CONFIG), encoding="utf-8")
    page.open("?hw=h100-sxm&batch=4")
    page.page.set_input_files("#ctl-upload", str(config))
    assert page.settle() == "ready"
    assert page.text("h1") == "tiny-llama on NVIDIA H100 SXM5 80GB"
    assert "model=upload%3Aconfig.json" in page.page.url
    body = {"model": TINY_CONFIG, "hardware": "h100-sxm", "workload": {"batch_size": 4}}
    shows_report(page, api(server, "api/analyze", body)[1])
    page.page.reload()  # the browser session keeps the upload: the URL still works
    assert page.settle() == "ready"
    assert page.text("h1") == "tiny-llama on NVIDIA H100 SXM5 80GB"
    assert page.errors == []


def test_a_bad_value_shows_the_api_message_and_the_page_keeps_working(
    page: Page, server: str
) -> None:
    page.open("?model=llama-3.1-8b&hw=h100-sxm&batch=2")
    before = page.value("[data-metric=TPOT] .big")
    page.page.fill("#ctl-batch", "0")
    assert page.settle() == "error"
    status, answer = api(
        server,
        "api/analyze",
        {"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"batch_size": 0}},
    )
    assert status == 422 and answer["field"] == "workload.batch_size"
    assert (
        page.text("#error")
        == answer["error"]
        == "workload: batch_size = 0 is outside the plausible range 1 to 10,000,000"
    )
    assert page.page.get_attribute("#ctl-batch", "aria-invalid") == "true"
    assert page.value("[data-metric=TPOT] .big") == before  # the last good report stays

    page.page.fill("#ctl-batch", "4")
    assert page.settle() == "ready"
    assert page.page.is_hidden("#error")
    assert page.page.get_attribute("#ctl-batch", "aria-invalid") is None
    body = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"batch_size": 4}}
    shows_report(page, api(server, "api/analyze", body)[1])

    page.page.fill("#ctl-model", "no-such-model")
    page.page.press("#ctl-model", "Enter")
    page.page.locator("#ctl-model").blur()
    assert page.settle() == "error"
    assert "unknown model preset 'no-such-model'" in page.text("#error")
    refused = [e for e in page.errors if "status of 422" not in e]  # the browser logs each 4xx
    assert refused == []


def test_tensor_parallel_llama_70b_on_two_h100s(page: Page, server: str, tmp_path: Path) -> None:
    assert page.open("?model=llama-3.1-70b&hw=h100-sxm&tp=2") == "ready"
    assert page.text("h1") == "meta-llama/Llama-3.1-70B on 2 × NVIDIA H100 SXM5 80GB"
    body = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "layout": {"tensor": 2}}
    report = api(server, "api/analyze", body)[1]
    shows_report(page, report)
    page.page.click("section:has(h2:text('Operators')) button:text('decode')")
    names = page.page.locator("section:has(h2:text('Operators')) tbody td:nth-child(2)")
    shown = [n.strip() for n in names.all_text_contents()]
    assert shown == [row["name"] for row in report["phases"]["decode"]["operators"]]
    assert {"attn_all_reduce", "mlp_all_reduce"} <= set(shown)
    assert page.page.locator("section:has(h2:text('Operators')) th:has-text('comm')").count() == 1
    page.shot("web-tp2.png", tmp_path)
    assert page.errors == []


def test_the_serving_curve_tab(page: Page, server: str, tmp_path: Path) -> None:
    page.open("?model=llama-3.1-70b&hw=h100-sxm&tp=8&batch=8")
    page.page.click("#tab-curve")
    assert page.settle() == "ready"
    assert "tab=curve" in page.page.url
    page.page.fill("#ctl-price", "2.5")
    assert page.settle() == "ready"
    body: dict[str, Any] = {
        "model": "llama-3.1-70b",
        "hardware": "h100-sxm",
        "layout": {"tensor": 8},
    }
    body |= {"workload": {"batch_size": 8}, "price_per_device_hour": 2.5}
    _, first = api(server, "api/serve-curve", body)  # the page's first call: defaults + batch
    sizes = sorted({*httpx.get(server + "api/options").json()["serve_curve"]["batch_sizes"], 8})
    assert [p["batch_size"] for p in first["points"]] == sizes
    marks = [
        b
        for b in (first["max_batch_size"], first["compute_bound_batch_size"])
        if b and b not in sizes
    ]
    _, curve = api(server, "api/serve-curve", {**body, "batch_sizes": sorted([*sizes, *marks])})
    assert page.page.locator("#curve-chart circle.pt").count() == len(curve["points"])
    assert f"memory limit · batch {curve['max_batch_size']:,}" in page.text("#curve-chart")
    rows = page.page.locator("#curve tbody tr")
    assert rows.count() == len(curve["points"])
    eight = next(p for p in curve["points"] if p["batch_size"] == 8)
    cost = eight["cost_per_million_tokens"]
    shown = f"{cost:.2f}" if cost < 10 else f"{cost:.1f}" if cost < 100 else f"{cost:,.0f}"
    assert page.text("#cost").startswith(f"cost: {shown} per million output tokens at batch 8")
    page.shot("web-curve.png", tmp_path)
    assert page.errors == []


def test_the_plan_tab(page: Page, server: str, tmp_path: Path) -> None:
    """The plan tab shows api/plan's answer for the inputs: its best deployment, the best
    of each layout and the Pareto frontier; a limit no deployment meets is its message."""
    page.open("?model=llama-3.1-8b&hw=h100-sxm&prompt=1024&output=128&total=4&tpot=20&rate=5")
    page.page.click("#tab-plan")
    assert page.settle() == "ready"
    assert "tab=plan" in page.page.url
    body = {
        "model": "llama-3.1-8b",
        "hardware": ["h100-sxm"],
        "devices": [4],
        "prompt_len": 1024,
        "output_len": 128,
        "tpot_s": 0.02,
        "requests_per_s": 5,
        "activation_dtype": "bf16",
        "weight_dtypes": ["bf16"],
        "kv_dtypes": ["bf16"],  # the page's KV choice
    }
    status, plan = api(server, "api/plan", body)
    assert status == 200, plan
    best = plan["best"]
    assert f"Best (aggregated): {best['label']}" in page.text("#plan-best")
    assert f"TPOT {secs(best['tpot_s'])}" in page.text("#plan-best")
    assert best["why"] in page.text("#plan-best")
    assert page.page.locator("#plan tbody tr").count() == len(plan["candidates"]) + len(
        plan["pareto"]
    )
    page.shot("web-plan.png", tmp_path)
    page.page.fill("#ctl-tpot", "0.001")  # 1 µs between tokens: nothing meets it
    assert page.settle() == "error"
    assert "TPOT fails first" in page.text("#error")
    assert page.page.get_attribute("#ctl-tpot", "aria-invalid") is None  # the field is body
    page.page.fill("#ctl-tpot", "20")
    assert page.settle() == "ready"
    assert [e for e in page.errors if "status of 422" not in e] == []  # the browser logs 4xx


def overlaps(p: Page, selector: str) -> list[tuple[str, str]]:
    """Pairs of text labels under ``selector`` whose boxes intersect."""
    return p.page.evaluate(
        """sel => { const boxes = [...document.querySelectorAll(sel)].map(t => [t.textContent, t.getBoundingClientRect()])
          .filter(([, b]) => b.width > 0), out = [];
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
          const [ta, a] = boxes[i], [tb, b] = boxes[j];
          if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push([ta, tb]); }
        return out; }""",
        selector,
    )


def test_phone_layout_and_keyboard(browser: Any, server: str, tmp_path: Path) -> None:
    p = Page(browser, server, width=390, height=844)
    try:
        assert p.open("?model=llama-3.1-70b&hw=h100-sxm&tp=2") == "ready"
        width = p.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the screen: tables scroll inside their card
        assert overlaps(p, "#chart text") == []
        unlabeled = p.page.evaluate(
            "() => [...document.querySelectorAll('#live input, #live select')]"
            ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id)"
        )
        assert unlabeled == []
        p.page.focus("#ctl-batch")  # keyboard only from here
        p.page.keyboard.type("8")
        assert p.settle() == "ready"
        assert p.page.get_attribute("#ctl-batch", "value") is None  # a typed value, not markup
        assert "batch=8" in p.page.url
        points = p.page.locator("#chart .pt")
        assert points.count() > 0
        assert all(
            t == "0" for t in points.evaluate_all("els => els.map(e => e.getAttribute('tabindex'))")
        )
        points.first.focus()
        assert p.page.is_visible("#tip") and p.text("#tip")
        p.shot("web-phone.png", tmp_path)
        p.page.click("#tab-curve")
        assert p.settle() == "ready"
        assert overlaps(p, "#curve-chart text") == []
        assert p.page.evaluate("() => document.documentElement.scrollWidth") <= 390
        p.shot("web-phone-curve.png", tmp_path)
        assert p.errors == []
    finally:
        p.page.close()
