"""`llm-roofline` and `llm-roofline analyze` through the real entry points."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import MISSING, fields, replace
from pathlib import Path

import pytest

from conftest import assert_usage_error
from llm_roofline import analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.engine.report import Metrics, OperatorRow, Phase, Report
from llm_roofline.inputs.workload import Workload

Capture = pytest.CaptureFixture[str]


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m llm_roofline ARGS` in a fresh interpreter (matplotlib forbidden to load)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "llm_roofline", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


# ---- the default ------------------------------------------------------------------------


def test_no_arguments_is_the_default_analysis(capsys: Capture) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "meta-llama/Llama-3.1-8B on NVIDIA H100 SXM5 80GB"
    assert "batch 1, prompt 2,048, context 2,048, output 256, weights bf16" in out
    assert "\nprefill: compute-bound — AI 752 FLOP/byte vs ridge 295 (2.5× above)" in out
    assert "\ndecode:  memory-bound — AI 1.05 FLOP/byte vs ridge 295 (" in out
    assert "\nfindings\n  - decode is memory-bound" in out
    assert main(["analyze"]) == 0
    assert capsys.readouterr().out == out


def test_help_shows_examples(capsys: Capture) -> None:
    assert main(["analyze", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "llm-roofline analyze --model" in out
    for flag in ("--batch", "--prompt-len", "--context-len", "--output-len", "--weight-dtype",
                 "--kv-dtype", "--act-dtype", "--attention", "--format", "--plot",
                 "--per-operator", "--peak-flops", "--bandwidth", "--memory"):  # fmt: skip
        assert flag in out


def test_top_level_help_lists_the_commands(capsys: Capture) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("analyze", "compare", "plot", "models", "hardware"):
        assert command in out


# ---- formats ----------------------------------------------------------------------------


def test_json_is_the_report_document(capsys: Capture) -> None:
    args = ["--model", "llama-2-7b", "--hardware", "a100-sxm-80gb", "--batch", "4",
            "--prompt-len", "512", "--output-len", "64", "--kv-dtype", "fp8"]  # fmt: skip
    assert main(["analyze", *args, "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err == ""
    assert data["schema"] == "llm-roofline/report/v2"
    names = {f.name for f in fields(Report)}
    required = {f.name for f in fields(Report) if f.default is MISSING}
    assert required | {"schema", "warnings"} <= set(data) <= names
    assert set(data["metrics"]) == {f.name for f in fields(Metrics)}
    for phase in ("prefill", "decode"):
        assert set(data["phases"][phase]) == {f.name for f in fields(Phase)}
        for row in data["phases"][phase]["operators"]:
            assert set(row) == set(OperatorRow._fields)
    report = Report.from_dict(data)
    assert len(report.findings) >= 3 and report.findings[0].startswith("decode is memory-bound")
    assert replace(report, findings=()) == analyze(
        get_model("llama-2-7b"),
        get_hardware("a100-sxm-80gb"),
        Workload(batch_size=4, prompt_len=512, output_len=64, kv_dtype="fp8"),
    )
    assert report.workload["batch_size"] == 4 and report.workload["kv_dtype"] == "fp8"


def test_csv_rows_sum_to_phase_totals(capsys: Capture) -> None:
    assert main(["analyze", "--format", "csv", "--batch", "2"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    report = analyze(get_model("llama-3.1-8b"), get_hardware("h100-sxm"), Workload(batch_size=2))
    assert {r["phase"] for r in rows} == {"prefill", "decode"}
    for name, phase in report.phases.items():
        mine = [r for r in rows if r["phase"] == name]
        assert len(mine) == len(phase.operators)
        for field in ("flops", "bytes", "time_s"):
            assert sum(float(r[field]) for r in mine) == pytest.approx(getattr(phase, field))


def test_per_operator_table(capsys: Capture) -> None:
    assert main(["analyze", "--per-operator", "--no-findings"]) == 0
    out = capsys.readouterr().out
    assert "prefill operators" in out and "decode operators" in out
    assert "gate_proj" in out and "share" in out
    assert "findings" not in out


def test_workload_flags_reach_the_report(capsys: Capture) -> None:
    args = ["analyze", "--format", "json", "--batch", "8", "--prompt-len", "1024",
            "--context-len", "4096", "--output-len", "32", "--weight-dtype", "int4",
            "--kv-dtype", "fp8", "--act-dtype", "fp8", "--attention", "eager",
            "--weight-group-size", "64", "--logits", "all"]  # fmt: skip
    assert main(args) == 0
    w = json.loads(capsys.readouterr().out)["workload"]
    assert (w["batch_size"], w["prompt_len"], w["context_len"], w["output_len"]) == (
        8, 1024, 4096, 32,
    )  # fmt: skip
    assert (w["weight_dtype"], w["kv_dtype"], w["activation_dtype"]) == ("int4", "fp8", "fp8")
    assert (w["attention"], w["weight_group_size"], w["logits"]) == ("eager", 64, "all")


def test_hardware_overrides(capsys: Capture) -> None:
    args = ["analyze", "--format", "json", "--peak-flops", "500T", "--peak-flops",
            "fp8=1.2 PFLOP/s", "--bandwidth", "2 TB/s", "--memory", "40GiB"]  # fmt: skip
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["peak_flops_per_s"] == 500e12
    assert data["hardware"]["peak_flops_per_s"]["fp8"] == 1.2e15
    assert data["bandwidth_bytes_per_s"] == 2e12
    assert data["ridge_point"] == 250.0
    assert data["metrics"]["memory"]["capacity_bytes"] == 40 * 2**30


def test_hardware_from_a_file(tmp_path: Path, capsys: Capture) -> None:
    device = tmp_path / "mine.toml"
    device.write_text(
        'name = "My GPU"\nmemory_bytes = "24GB"\nbandwidth_bytes_per_s = "1 TB/s"\n'
        '[peak_flops_per_s]\nbf16 = "100T"\n'
    )
    assert main(["analyze", "--hardware", str(device), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hardware"]["name"] == "My GPU" and data["ridge_point"] == 100.0


# ---- warnings and errors ----------------------------------------------------------------


def test_context_past_the_model_maximum_warns_on_stderr(capsys: Capture) -> None:
    assert main(["analyze", "--model", "llama-2-7b", "--prompt-len", "8000"]) == 0
    captured = capsys.readouterr()
    assert "llm-roofline: warning: prompt/context plus output" in captured.err
    assert "max_position_embeddings (4096)" in captured.err
    assert "warning" not in captured.out  # not repeated in the table


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--model", "no-such-model"], ["--model", "no-such-model"]),
        (["--hardware", "no-such-gpu"], ["--hardware", "no-such-gpu"]),
        (["--batch", "0"], ["argument --batch", "must be >= 1"]),
        (["--prompt-len", "-5"], ["argument --prompt-len"]),
        (["--output-len", "-1"], ["argument --output-len"]),
        (["--context-len", "x"], ["argument --context-len", "whole number"]),
        (["--weight-dtype", "int3"], ["argument --weight-dtype", "int3"]),
        (["--attention", "paged"], ["argument --attention"]),
        (["--format", "xml"], ["argument --format"]),
        (["--plot", "roofline.jpg"], ["argument --plot", ".png or .svg"]),
        (["--bandwidth", "3 Tb/s"], ["argument --bandwidth", "ambiguous"]),
        (["--memory", "-1GB"], ["argument --memory"]),
        (["--peak-flops", "bf17=1T"], ["argument --peak-flops"]),
        (["--hardware", "h100-sxm,a100-sxm-80gb"], ["--hardware takes one device"]),
        (["--act-dtype", "fp8", "--hardware", "a100-sxm-80gb"], ["fp8"]),
    ],
)
def test_bad_calls_are_one_line_and_exit_2(
    args: list[str], needles: list[str], capsys: Capture
) -> None:
    code = main(["analyze", *args])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_usage_error(code, captured.err, *needles)


def test_files_that_do_not_parse(tmp_path: Path, capsys: Capture) -> None:
    bad_json = tmp_path / "gpu.json"
    bad_json.write_text("{not json")
    assert_usage_error(
        main(["analyze", "--hardware", str(bad_json)]), capsys.readouterr().err, "--hardware",
        "invalid JSON",
    )  # fmt: skip
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "llama", "hidden_size": "wide"}')
    assert_usage_error(
        main(["analyze", "--model", str(config)]), capsys.readouterr().err, "--model"
    )
    missing = tmp_path / "missing.toml"
    assert_usage_error(
        main(["analyze", "--hardware", str(missing)]), capsys.readouterr().err, "does not exist"
    )


def test_plot_flag_writes_the_file(tmp_path: Path, capsys: Capture) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.svg"
    assert main(["analyze", "--format", "json", "--plot", str(out)]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays the JSON document alone
    assert f"wrote {out}" in captured.err
    assert out.read_text().lstrip().startswith("<?xml")


# ---- a real process ------------------------------------------------------------------------


def test_subprocess_json_without_matplotlib() -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['llm-roofline', 'analyze', '--format', 'json']\n"
        "try:\n"
        "    runpy.run_module('llm_roofline', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'  # one configuration: numbers\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert Report.from_json(result.stdout).schema == "llm-roofline/report/v2"


def test_subprocess_help_does_not_import_matplotlib() -> None:
    code = (
        "import sys\nfrom llm_roofline.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['plot', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('matplotlib' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip() == "False"


def test_subprocess_good_and_bad_calls() -> None:
    good = run_module("analyze", "--model", "llama-3.2-1b", "--hardware", "rtx-4090")
    assert good.returncode == 0, good.stderr
    assert "prefill:" in good.stdout and "decode:" in good.stdout
    bad = run_module("analyze", "--batch", "0")
    assert_usage_error(bad.returncode, bad.stderr, "--batch")
    unknown = run_module("analyze", "--model", "gpt-17")
    assert_usage_error(unknown.returncode, unknown.stderr, "gpt-17")


def test_tensor_parallel_analysis(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["analyze", "--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--tp", "8"]
    assert main([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parallelism"]["tensor"] == 8 and data["parallelism"]["devices"] == 8
    # per-device FLOPs of the phase equal the summary's per-device figure
    assert data["phases"]["decode"]["flops"] == data["parallelism"]["per_device_flops"]["decode"]
    assert main(base) == 0
    assert "8 devices: tensor 8 × pipeline 1" in capsys.readouterr().out


def test_tensor_parallel_degree_must_divide_heads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--model", "llama-3.1-70b", "--tp", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tensor (3) must divide num_attention_heads (64)" in err
