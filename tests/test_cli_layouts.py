"""Every command that analyzes takes a layout: --tp/--pp/--ep/--dp (Llama-3.1-70B on H100)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_roofline.cli import main

Capture = pytest.CaptureFixture[str]
BASE = ["--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--batch", "8", "--tp", "2"]


def test_analyze_with_tp_2_has_findings_and_communication(capsys: Capture) -> None:
    assert main(["analyze", *BASE, "--per-operator"]) == 0
    out = capsys.readouterr().out
    assert "findings" in out and "attn_all_reduce" in out and "mlp_all_reduce" in out


def test_analyze_json_with_tp_2_carries_layout_and_findings(capsys: Capture) -> None:
    assert main(["analyze", *BASE, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parallelism"]["tensor"] == 2 and data["parallelism"]["devices"] == 2
    assert data["findings"] and all(isinstance(line, str) for line in data["findings"])
    # 70.55e9 parameters × 2 B = 141.1 GB of weights, split two ways (norms and the
    # replicated parts are small): about 70.6 GB per device.
    assert 70.5e9 < data["metrics"]["memory"]["weight_bytes"] < 70.6e9


def test_compare_with_tp_2(capsys: Capture) -> None:
    assert main(["compare", *BASE[:2], "--hardware", "h100-sxm,h200", "--tp", "2",
                 "--format", "json"]) == 0  # fmt: skip
    columns = json.loads(capsys.readouterr().out)
    assert [c["report"]["parallelism"]["tensor"] for c in columns] == [2, 2]


def test_plot_with_tp_2(tmp_path: Path, capsys: Capture) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "roofline.svg"
    assert main(["plot", *BASE, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_data_replicas_multiply_throughput(capsys: Capture) -> None:
    assert main(["analyze", *BASE, "--format", "json"]) == 0
    one = json.loads(capsys.readouterr().out)["metrics"]
    assert main(["analyze", *BASE, "--dp", "3", "--format", "json"]) == 0
    three = json.loads(capsys.readouterr().out)["metrics"]
    assert three["tpot_s"] == one["tpot_s"]
    assert three["tokens_per_s"] == pytest.approx(3 * one["tokens_per_s"])


@pytest.mark.parametrize(("flag", "value"), [("--tp", "3"), ("--dp", "0"), ("--ep", "2")])
def test_bad_layouts_are_one_line_naming_the_field(flag: str, value: str, capsys: Capture) -> None:
    args = ["analyze", "--model", "llama-3.1-70b", flag, value]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert {"--tp": "tensor", "--dp": "--dp", "--ep": "expert"}[flag] in err


def test_engine_flag_selects_the_profile(capsys: Capture) -> None:
    assert main(["analyze", "--engine", "llama.cpp", "--no-findings", "--format", "json"]) == 0
    llama_cpp = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--no-findings", "--format", "json"]) == 0
    generic = json.loads(capsys.readouterr().out)
    assert llama_cpp["hardware"]["engine"] == "llama.cpp"
    assert generic["hardware"]["engine"] == "generic"
    # the engine changes expected times only: FLOPs, bytes and ideal times stay
    assert llama_cpp["phases"]["decode"]["bytes"] == generic["phases"]["decode"]["bytes"]
    assert llama_cpp["phases"]["decode"]["time_s"] == generic["phases"]["decode"]["time_s"]
    assert llama_cpp["metrics"]["tpot_s"] != generic["metrics"]["tpot_s"]
    low, high = generic["metrics"]["tpot_range_s"]
    assert low < generic["metrics"]["tpot_s"] < high


def test_unknown_engine_is_one_line(capsys: Capture) -> None:
    assert main(["analyze", "--engine", "foo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "engine must be one of generic" in err and "'foo'" in err
