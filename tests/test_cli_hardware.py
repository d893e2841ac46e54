"""`llm-roofline hardware` through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llm_roofline.catalog.hardware_catalog import list_hardware
from llm_roofline.cli import main

Capture = pytest.CaptureFixture[str]


def test_help_shows_examples(capsys: Capture) -> None:
    assert main(["hardware", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "llm-roofline hardware show h100-sxm" in out


def test_list_every_preset(capsys: Capture) -> None:
    assert main(["hardware"]) == 0
    out = capsys.readouterr().out
    for hw in list_hardware():
        assert hw.id in out
    h100 = next(line for line in out.splitlines() if line.startswith("h100-sxm "))
    assert "989.4 TFLOP/s bf16" in h100 and "3.35 TB/s" in h100 and h100.endswith(" 295")


def test_filter(capsys: Capture) -> None:
    assert main(["hardware", "a100"]) == 0
    lines = capsys.readouterr().out.splitlines()
    body = [line for line in lines[2:] if line.strip() and "presets" not in line]
    assert body and all(line.startswith("a100") for line in body)


def test_show_with_sources(capsys: Capture) -> None:
    assert main(["hardware", "show", "h100"]) == 0  # an alias
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "NVIDIA H100 SXM5 80GB (h100-sxm)"
    assert "ridge 295 FLOP/byte" in out and "ridge 591 FLOP/byte" in out
    assert "sources:" in out and "peak_flops_per_s: https://" in out


def test_show_a_file(tmp_path: Path, capsys: Capture) -> None:
    device = tmp_path / "gpu.json"
    device.write_text(
        '{"name": "Lab GPU", "peak_flops_per_s": {"bf16": "200T"}, '
        '"bandwidth_bytes_per_s": "1TB/s", "memory_bytes": "48GB", "source": "our lab"}'
    )
    assert main(["hardware", "show", str(device)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Lab GPU") and "ridge 200 FLOP/byte" in out and "our lab" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["show", "nope-gpu"], "nope-gpu"),
        (["show", "missing.toml"], "does not exist"),
        (["show"], "hardware show NAME"),
        (["zzzz-no-match"], "no hardware preset matches"),
    ],
)
def test_bad_calls(args: list[str], needle: str, capsys: Capture) -> None:
    assert main(["hardware", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llm_roofline", "hardware", "mi300"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "mi300x" in result.stdout
