"""`llm-roofline serve-curve` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import assert_usage_error
from llm_roofline import analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.inputs.layout import Parallelism
from llm_roofline.inputs.workload import Workload
from llm_roofline.studies.serving import ServingCurve

Capture = pytest.CaptureFixture[str]
BASE = [
    "serve-curve",
    "--model",
    "llama-3.1-8b",
    "--hardware",
    "h100-sxm",
    "--prompt-len",
    "512",
    "--output-len",
    "32",
]


def test_table(capsys: Capture) -> None:
    assert main([*BASE, "--batch-sizes", "1,8", "--tp", "2", "--price-per-hour", "2.5"]) == 0
    out = capsys.readouterr().out
    assert "on 2 x NVIDIA H100" in out and "tensor 2" in out
    header = next(line for line in out.splitlines() if line.startswith("batch"))
    for column in ("TTFT", "TPOT", "e2e", "tok/s/dev", "mem/dev", "fits", "$/Mtok"):
        assert column in header
    assert "largest batch that fits" in out


def test_json_matches_the_library(capsys: Capture) -> None:
    assert (
        main(
            [
                *BASE,
                "--batch-sizes",
                "4",
                "--tp",
                "2",
                "--pp",
                "2",
                "--micro-batches",
                "2",
                "--format",
                "json",
            ]
        )
        == 0
    )
    curve = ServingCurve.from_dict(json.loads(capsys.readouterr().out))
    assert curve.devices == 4
    (point,) = curve.points
    w = Workload(batch_size=4, prompt_len=512, output_len=32)
    report = analyze(
        get_model("llama-3.1-8b"),
        get_hardware("h100-sxm"),
        w,
        Parallelism(tensor=2, pipeline=2, micro_batches=2),
    )
    assert point.ttft_s == report.metrics.ttft_s
    assert point.tpot_s == report.metrics.tpot_s


def test_batch_flag_gives_one_point(capsys: Capture) -> None:
    assert main([*BASE, "--batch", "3", "--format", "json"]) == 0
    assert [p["batch_size"] for p in json.loads(capsys.readouterr().out)["points"]] == [3]


def test_speculation_chunking_and_mla(capsys: Capture) -> None:
    args = [
        *BASE,
        "--batch-sizes",
        "1",
        "--draft-model",
        "llama-3.2-1b",
        "--spec-k",
        "3",
        "--spec-alpha",
        "0.8",
        "--chunk-size",
        "128",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "speedup" in out and "chunked prefill of 128" in out
    mla = [
        "serve-curve",
        "--model",
        "deepseek-v2-lite",
        "--batch-sizes",
        "1,4",
        "--mla-decode",
        "naive",
        "--format",
        "json",
    ]
    assert main(mla) == 0
    assert len(json.loads(capsys.readouterr().out)["points"]) == 2


def test_expert_parallel_deepseek_v3(capsys: Capture) -> None:
    args = [
        "serve-curve",
        "--model",
        "deepseek-v3",
        "--hardware",
        "h200",
        "--ep",
        "8",
        "--tp",
        "8",
        "--weight-dtype",
        "fp8",
        "--batch-sizes",
        "1,32",
        "--format",
        "json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["devices"] == 8 and data["parallelism"]["expert"] == 8


def test_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "serving.svg"
    assert main([*BASE, "--batch-sizes", "1,4,16", "--plot", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--tp", "3"], ("tensor (3)",)),
        (["--ep", "2"], ("expert",)),
        (["--spec-k", "3"], ("--draft-model",)),
        (["--reserve", "1.5"], ("--reserve",)),
        (["--batch-sizes", "1,x"], ("--batch-sizes",)),
        (["--tp", "0"], ("--tp",)),
        (["--spec-alpha", "2", "--draft-model", "llama-3.2-1b"], ("--spec-alpha",)),
        (["--plot", "out.txt"], ("--plot",)),
        (["--draft-model", "no-such-model"], ("--draft-model",)),
        (["--price-per-hour", "-1"], ("--price-per-hour",)),
    ],
)
def test_errors_are_one_line(capsys: Capture, extra: list[str], needles: tuple[str, ...]) -> None:
    code = main(
        [*BASE, "--batch-sizes", "1", *extra] if "--batch-sizes" not in extra else [*BASE, *extra]
    )
    assert_usage_error(code, capsys.readouterr().err, *needles)


def test_help(capsys: Capture) -> None:
    assert main(["serve-curve", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--tp",
        "--pp",
        "--ep",
        "--micro-batches",
        "--price-per-hour",
        "--spec-k",
        "--spec-alpha",
        "--draft-model",
        "--chunk-size",
        "--plot",
    ):
        assert flag in out
    assert main(["--help"]) == 0
    assert "serve-curve" in capsys.readouterr().out
