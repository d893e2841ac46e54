"""The web page: one self-contained HTML file that embeds the Report JSON and computes nothing.

What a browser draws is tested in tests/test_serve_browser.py (Chromium, the live page);
these tests pin the contract around it: the file, the embedded data, no external loads, safe
escaping, and the `web` command's good and bad calls.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from llm_roofline import Hardware, Layout, Model, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.engine.report import Report
from llm_roofline.render.html import (
    LIVE_PLACEHOLDER,
    PLACEHOLDER,
    embed_json,
    live_script,
    render_html,
    render_live_page,
    template,
)

MODEL = Model("llama-3-8b", 128256, 4096, 32, 32, 8, 128, 14336, max_position_embeddings=8192)
H100 = Hardware("H100", {"bf16": 989.4e12, "fp8": 1978.9e12}, 3.35e12, 80e9)
A100 = Hardware("A100", {"bf16": 312e12}, 2.039e12, 80e9)
DATA_BLOCK = re.compile(
    r'<script type="application/json" id="llm-roofline-data">(.*?)</script>', re.DOTALL
)


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(MODEL, H100, Workload())


def embedded(page: str) -> Any:
    blocks = DATA_BLOCK.findall(page)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def as_json(report: Report) -> Any:
    """``report.to_dict()`` as JSON gives it back (tuples become lists)."""
    return json.loads(report.to_json())


def outside_data(page: str) -> str:
    return DATA_BLOCK.sub("", page)


# ---- the page -----------------------------------------------------------------------


def test_page_is_html_that_embeds_exactly_the_report(report: Report) -> None:
    page = render_html([report.to_dict()])
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page and 'name="viewport"' in page
    assert "prefers-color-scheme:dark" in page
    data = embedded(page)
    assert data == {"reports": [as_json(report)], "findings": None}
    assert Report.from_dict(data["reports"][0]) == report
    assert PLACEHOLDER not in page


def test_several_devices_and_their_findings(report: Report) -> None:
    other = analyze(MODEL, A100, Workload())
    notes = [["decode is memory-bound"], ["prefill is compute-bound", "a second line"]]
    data = embedded(render_html([report.to_dict(), other.to_dict()], notes))
    assert data["reports"] == [as_json(report), as_json(other)]
    assert data["findings"] == notes


def test_findings_must_match_the_reports(report: Report) -> None:
    with pytest.raises(ValueError, match="2 findings lists for 1 reports"):
        render_html([report.to_dict()], [[], []])
    with pytest.raises(ValueError, match="no report"):
        render_html([])


def test_no_external_resources(report: Report) -> None:
    assert "://" not in template()  # no URL at all: no CDN, font, image or stylesheet
    rest = outside_data(render_html([report.to_dict()]))  # sources in the data are text
    assert "://" not in rest
    assert not re.search(r"(?i)\b(src|href)\s*=|<link|<img|<iframe|<object|@import", rest)
    assert not re.search(r"\burl\(|fetch\(|XMLHttpRequest|import\(|WebSocket", rest)


def test_script_end_inside_a_string_cannot_break_out(report: Report) -> None:
    evil = "</script><script>alert(1)</script><!-- & </SCRIPT> \u2028 ]]>"
    doc = report.to_dict()
    doc["model"] = {**doc["model"], "name": evil}
    page = render_html([doc], [[evil]])
    block = DATA_BLOCK.findall(page)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    assert page.lower().count("</script") == template().lower().count("</script")
    data = embedded(page)
    assert data["reports"][0]["model"]["name"] == evil
    assert data["findings"] == [[evil]]


def test_embed_json_escapes_with_json_escapes() -> None:
    assert embed_json({"a": "</script>&"}) == '{"a":"\\u003c/script\\u003e\\u0026"}'
    assert json.loads(embed_json({"a": "</script>&"})) == {"a": "</script>&"}
    with pytest.raises(ValueError):  # JSON.parse would reject NaN: fail here, not blank
        embed_json({"x": float("nan")})


def test_template_is_small_and_builds_the_page_from_text_nodes() -> None:
    page = template()
    assert page.count(PLACEHOLDER) == 1
    assert len(page.splitlines()) < 600
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in page  # data never parsed as HTML or code


# ---- the command --------------------------------------------------------------------


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(["web", "--help"], capsys)
    assert code == 0
    assert "examples:" in out and "llm-roofline web" in out and "--out" in out


def test_good_call_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    argv = ["web", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--batch", "4"]
    code, _, err = call([*argv, "--out", str(out)], capsys)
    assert code == 0
    assert err.strip() == f"llm-roofline: wrote {out}"
    data = embedded(out.read_text(encoding="utf-8"))
    expected = analyze(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload(batch_size=4))
    assert data["reports"] == [as_json(expected)]
    assert len(data["findings"]) == 1
    assert data["findings"][0] and all(isinstance(line, str) for line in data["findings"][0])


def test_several_devices_on_one_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compare.html"
    code, _, _ = call(
        ["web", "--hardware", "h100-sxm,a100-sxm-80gb", "--no-findings", "--out", str(out)],
        capsys,
    )
    assert code == 0
    data = embedded(out.read_text(encoding="utf-8"))
    assert [r["hardware"]["id"] for r in data["reports"]] == ["h100-sxm", "a100-sxm-80gb"]
    assert data["findings"] is None


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--model", "no-such-model", "--out", "{tmp}/r.html"], "--model 'no-such-model'"),
        (["--hardware", "h100-sxm,nope", "--out", "{tmp}/r.html"], "--hardware 'nope'"),
        ([], "required: --out"),
        (["--out", "{tmp}/r.png"], "must end in .html"),
        (["--out", "{tmp}/missing/r.html"], "no such directory"),
        (["--out", "{tmp}/adir.html"], "cannot write"),
        (["--batch", "0", "--out", "{tmp}/r.html"], "--batch"),
    ],
)
def test_bad_calls_exit_2_with_one_line(
    argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "adir.html").mkdir()
    code, out, err = call(["web", *(a.replace("{tmp}", str(tmp_path)) for a in argv)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("llm-roofline") and says in err
    assert not (tmp_path / "r.html").exists()


def test_a_tensor_parallel_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tp2.html"
    argv = ["web", "--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--tp", "2"]
    code, _, err = call([*argv, "--out", str(out)], capsys)
    assert code == 0
    data = embedded(out.read_text(encoding="utf-8"))
    model, h100 = get_model("llama-3.1-70b"), get_hardware("h100-sxm")
    assert data["reports"] == [as_json(analyze(model, h100, Workload(), Layout(tensor=2)))]
    names = {row["name"] for row in data["reports"][0]["phases"]["decode"]["operators"]}
    assert {"attn_all_reduce", "mlp_all_reduce"} <= names
    if data["findings"] is None:  # until studies.findings takes a layout
        assert "findings are left out" in err


def test_a_layout_the_model_cannot_take(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["web", "--model", "llama-3.1-70b", "--tp", "3", "--out", str(tmp_path / "r.html")]
    code, out, err = call(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "tensor (3) must divide num_attention_heads (64)" in err
    assert not (tmp_path / "r.html").exists()


# ---- the live page of `llm-roofline serve` ------------------------------------------


def test_live_page_is_the_same_template_with_the_controls_script() -> None:
    live = render_live_page()
    assert embedded(live) == {"reports": [], "findings": None}
    assert live_script() in live and LIVE_PLACEHOLDER not in live
    static = render_html([analyze(MODEL, H100, Workload()).to_dict()])
    assert live_script() not in static and LIVE_PLACEHOLDER not in static
    assert outside_data(static).replace("\n", "") in outside_data(live).replace(
        "<script>\n" + live_script() + "</script>", ""
    ).replace("\n", "")


def test_controls_script_is_safe_and_loads_nothing_from_elsewhere() -> None:
    script = live_script()
    assert "://" not in script  # API calls are relative: same origin, any prefix
    assert "</script" not in script.lower() and "<!--" not in script
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in script
    assert 'fetch("api/" + path' in script
    assert len(script.splitlines()) < 400
