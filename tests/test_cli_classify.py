"""`llm-roofline classify` end to end: help, good calls, bad calls."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llm_roofline.cli import main

GOOD = [
    "classify",
    "--d-model",
    "4096",
    "--n-layers",
    "32",
    "--seq-len",
    "512",
    "--peak-flops",
    "312e12",
    "--peak-bandwidth",
    "2.039e12",
]


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--help"]) == 0
    assert "example:" in capsys.readouterr().out


def test_readable_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(GOOD) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["prefill", "compute-bound", "AI", "501.551"]
    assert lines[1].split()[:4] == ["decode", "memory-bound", "AI", "1.0"]
    assert "153.0162" in lines[0]


def test_json_is_the_dict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GOOD, "--dtype-bytes", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "prefill": {"arithmetic_intensity": 501.551, "classification": "compute-bound"},
        "decode": {"arithmetic_intensity": 1.0, "classification": "memory-bound"},
        "ridge_point": 153.0162,
    }


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (["--d-model", "0"], "argument --d-model: must be >= 1, got 0"),
        (["--seq-len", "-3"], "argument --seq-len: must be >= 0, got -3"),
        (["--peak-flops", "-1"], "argument --peak-flops: must be a finite number > 0"),
        (["--peak-flops", "312"], "did you mean 312TFLOP/s?"),
        (["--peak-bandwidth", "1e-320"], "outside the plausible range 1 GB/s to 100 TB/s"),
        (["--dtype-bytes", "0"], "argument --dtype-bytes: expected a number of bytes in (0, 32]"),
    ],
)
def test_bad_values_one_line_exit_2(
    change: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*GOOD, "--dtype-bytes", "2"]
    i = args.index(change[0])
    args[i + 1] = change[1]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_missing_peaks_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--d-model", "4096", "--n-layers", "32", "--seq-len", "512"]) == 2
    assert "--peak-flops" in capsys.readouterr().err


def test_unparsable_number_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llm_roofline", *GOOD[:2], "four"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "--d-model" in proc.stderr and "Traceback" not in proc.stderr


def test_module_entry_point_matches() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llm_roofline", *GOOD, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["ridge_point"] == 153.0162


def test_hardware_preset_stands_in_for_the_peaks(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["classify", "--d-model", "4096", "--n-layers", "32", "--seq-len", "512"]
    assert main([*args, "--hardware", "a100-sxm-80gb", "--json"]) == 0
    # A100 SXM 80GB: 312 TFLOP/s dense bf16, 2.039 TB/s → ridge 153.0162, as in the exercise
    assert json.loads(capsys.readouterr().out)["ridge_point"] == 153.0162
    assert main([*args, "--hardware", "a100-sxm-80gb", "--peak-flops", "1e12"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*args, "--hardware", "h100-sxmm"]) == 2
    assert "h100-sxm" in capsys.readouterr().err
