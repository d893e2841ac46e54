"""The roofline plot: files written in the format their extension asks for."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.engine.report import Report
from llm_roofline.render.plot import _points, plot_format, plot_roofline

pytest.importorskip("matplotlib")

MODEL = Model("llama-3-8b", 128256, 4096, 32, 32, 8, 128, 14336)
H100 = Hardware("H100", {"bf16": 989.4e12, "fp8": 1978.9e12, "fp32": 67e12}, 3.35e12, 80e9)


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(MODEL, H100, Workload())


def test_png(report: Report, tmp_path: Path) -> None:
    out = plot_roofline(report, tmp_path / "r.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_svg(report: Report, tmp_path: Path) -> None:
    out = plot_roofline(report, tmp_path / "r.SVG")  # the extension's case does not matter
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    text = out.read_text()
    assert "arithmetic intensity" in text or "FLOP/byte" in text


@pytest.mark.parametrize("name", ["r.jpg", "r", "r.png.txt", "r.pdf"])
def test_other_extensions_are_refused_before_drawing(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must end in \.png or \.svg"):
        plot_format(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_points_merge_same_spot_and_keep_time_shares(report: Report) -> None:
    points = _points(report.decode)
    shares = sum(share for *_, share in points)
    plotted = [r for r in report.decode.operators if r.flops > 0]
    assert shares == pytest.approx(sum(r.time_s for r in plotted) / report.decode.time_s)
    assert len(points) < len(plotted)  # the 1-FLOP/byte matmuls share one spot
    names = [name for name, *_ in points]
    assert not any("embed_tokens" in n for n in names)  # no FLOPs: not on log axes
    for _, ai, flops_per_s, _ in points:  # every point lies on the bf16 roof
        assert flops_per_s == pytest.approx(min(989.4e12, ai * 3.35e12), rel=1e-9)


def test_importing_plot_does_not_import_matplotlib() -> None:
    code = "import sys, llm_roofline.render.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
