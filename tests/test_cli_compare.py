"""`llm-roofline compare` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llm_roofline import analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.engine.report import Report
from llm_roofline.inputs.workload import Workload
from llm_roofline.render.text import times

Capture = pytest.CaptureFixture[str]


def rows(text: str) -> dict[str, str]:
    return {line.split("  ")[0]: line for line in text.splitlines()}


def test_help_shows_examples(capsys: Capture) -> None:
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "llm-roofline compare --hardware h100-sxm,a100-sxm-80gb" in out


def test_devices_side_by_side_with_ratios(capsys: Capture) -> None:
    assert main(["compare", "--hardware", "h100-sxm,a100-sxm-80gb", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["h100-sxm", "a100-sxm-80gb"]
    model, w = get_model("llama-3.1-8b"), Workload(batch_size=4)
    h100 = analyze(model, get_hardware("h100-sxm"), w)
    a100 = analyze(model, get_hardware("a100-sxm-80gb"), w)
    table = rows(out)
    assert f"({times(a100.metrics.tpot_s / h100.metrics.tpot_s)})" in table["TPOT"]
    assert f"({times(a100.ridge_point / h100.ridge_point)})" in table["ridge point (FLOP/byte)"]
    assert table["decode bound"].split()[-2:] == ["memory-bound", "memory-bound"]


def test_models_side_by_side(capsys: Capture) -> None:
    assert main(["compare", "--model", "llama-3.2-1b,llama-3.1-8b", "--hardware", "l4"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["llama-3.2-1b", "llama-3.1-8b"]
    assert "meta-llama/Llama-3.2-1B" in rows(out)["model"]


def test_models_times_devices(capsys: Capture) -> None:
    args = ["compare", "--model", "llama-3.2-1b,llama-3.2-3b", "--hardware", "l4,t4",
            "--format", "json"]  # fmt: skip
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["column"] for c in data] == [
        "llama-3.2-1b @ l4", "llama-3.2-1b @ t4", "llama-3.2-3b @ l4", "llama-3.2-3b @ t4",
    ]  # fmt: skip
    for column in data:
        Report.from_dict(column["report"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--hardware", "h100-sxm,nope-gpu"], "nope-gpu"),
        (["--model", "llama-3.1-8b,nope-model"], "nope-model"),
        (["--hardware", ","], "--hardware: no device"),
        (["--batch", "0"], "argument --batch"),
    ],
)
def test_bad_calls(args: list[str], needle: str, capsys: Capture) -> None:
    assert main(["compare", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llm_roofline", "compare", "--hardware", "h100-sxm,h200"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "TTFT" in result.stdout and "h200" in result.stdout
