"""`llm-roofline sweep` and `llm-roofline plan` through the real entry point."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from conftest import assert_usage_error
from llm_roofline.cli import main
from llm_roofline.cli.axes import int_grid
from llm_roofline.studies.sweep import sweep

Capture = pytest.CaptureFixture[str]


def test_grid_syntax() -> None:
    parse = int_grid(1)
    assert parse("1..512") == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert parse("3..20") == [3, 6, 12]
    assert parse("1..5:1") == [1, 2, 3, 4, 5]
    assert parse("16..64:16,1,16") == [16, 32, 48, 64, 1]
    for bad, words in (
        ("0", ">= 1"),
        ("8..2", "ends before"),
        ("1..x", "whole number"),
        ("1..9:0", ">= 1"),
        ("", "expected values"),
    ):
        with pytest.raises(argparse.ArgumentTypeError, match=words):
            parse(bad)


def test_sweep_csv_equals_the_api(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "grid.csv"
    code = main(
        [
            "sweep",
            "--model",
            "llama-3.1-8b",
            "--hardware",
            "h100-sxm",
            "--batch",
            "1..4",
            "--tp",
            "1,2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    api = sweep("llama-3.1-8b", "h100-sxm", batch_size=[1, 2, 4], tensor=[1, 2])
    assert len(rows) == len(api) == 6
    assert [float(r["tpot_s"]) for r in rows] == api["tpot_s"].tolist()
    assert "sweep: 6 rows in" in capsys.readouterr().err


def test_sweep_jsonl_to_stdout(capsys: Capture) -> None:
    assert main(["sweep", "--batch", "1,2", "--kv-dtype", "bf16,fp8", "--format", "jsonl"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["kv_dtype"] for x in lines] == ["bf16", "bf16", "fp8", "fp8"]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--batch", "0,1"], ["--batch", "must be >= 1, got 0"]),
        (["--tp", "1..x"], ["--tp", "'x'"]),
        (["--kv-dtype", "fp9"], ["--kv-dtype", "'fp9'"]),
        (["--model", "no-such-model"], ["--model 'no-such-model'"]),
        (["--context-len", "5", "--batch", "1..10000000:1"], ["--batch", "more than"]),
    ],
)
def test_sweep_bad_values_are_one_line(
    argv: list[str], needles: list[str], capsys: Capture
) -> None:
    code = main(["sweep", *argv])
    assert_usage_error(code, capsys.readouterr().err, *needles)


PLAN = [
    "plan",
    "--model",
    "llama-3.1-8b",
    "--hardware",
    "h100-sxm",
    "--devices",
    "2",
    "--batch",
    "1,8,64",
    "--prompt-len",
    "512",
    "--output-len",
    "64",
]


def test_plan_table_and_json(capsys: Capture, tmp_path: Path) -> None:
    assert main([*PLAN, "--tpot-ms", "30", "--plot", str(tmp_path / "p.svg")]) == 0
    out = capsys.readouterr().out
    assert "best (aggregated): TP" in out and "why:" in out and "Pareto frontier" in out
    assert (tmp_path / "p.svg").exists()
    assert main([*PLAN, "--format", "json", "--disaggregated"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"best", "candidates", "pareto", "searched", "seconds", "disaggregated"} <= set(data)


def test_plan_requests_file(tmp_path: Path, capsys: Capture) -> None:
    mix = tmp_path / "mix.csv"
    mix.write_text("prompt_len,output_len,weight\n512,64,3\n2048,32,1\n", encoding="utf-8")
    assert main([*PLAN[:-4], "--requests", str(mix), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["prompt_len"] for r in data["requests"]] == [512, 2048]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"prompt_len": 512}]', encoding="utf-8")
    code = main([*PLAN[:-4], "--requests", str(bad)])
    assert_usage_error(
        code, capsys.readouterr().err, "--requests", "needs prompt_len and output_len"
    )


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--tpot-ms", "0.001"], ["TPOT fails first", "× the 1.00 µs limit"]),
        (["--ttft-ms", "-3"], ["--ttft-ms", "> 0"]),
        (["--devices", "0"], ["--devices", ">= 1"]),
        (["--price-per-hour", "h200"], ["--price-per-hour"]),
        (["--output-len", "1"], ["--output-len", ">= 2"]),
    ],
)
def test_plan_errors_are_one_line(argv: list[str], needles: list[str], capsys: Capture) -> None:
    code = main([*PLAN, *argv])
    assert_usage_error(code, capsys.readouterr().err, *needles)
