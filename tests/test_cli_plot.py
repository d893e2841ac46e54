"""`llm-roofline plot` through the real entry point."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from llm_roofline.cli import main

Capture = pytest.CaptureFixture[str]


def test_help_shows_examples(capsys: Capture) -> None:
    assert main(["plot", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "llm-roofline plot --out roofline.png" in out


def test_png(tmp_path: Path, capsys: Capture) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "roofline.png"
    assert main(["plot", "--model", "llama-3.2-1b", "--hardware", "l4", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
    assert captured.out.startswith("prefill: ")
    assert f"wrote {out}" in captured.err


def test_svg_in_a_subprocess(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "roofline.svg"
    result = subprocess.run(
        [sys.executable, "-m", "llm_roofline", "plot", "--batch", "16", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert ET.parse(out).getroot().tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--out", "roofline.gif"], "argument --out"),
        ([], "--out"),  # required
        (["--out", "r.png", "--model", "nope"], "--model 'nope'"),
    ],
)
def test_bad_calls(args: list[str], needle: str, tmp_path: Path, capsys: Capture) -> None:
    assert main(["plot", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_unwritable_path_is_a_usage_error(tmp_path: Path, capsys: Capture) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "no" / "such" / "dir" / "r.png"
    assert main(["plot", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llm-roofline plot: error: argument --out: cannot write")
    assert len(err.strip().splitlines()) == 1 and "no such directory" in err
