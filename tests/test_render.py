"""Renderers: they print what a Report holds, in the right places, and nothing else."""

from __future__ import annotations

import csv
import io

import pytest

from llm_roofline import Hardware, Model, Workload, analyze
from llm_roofline.engine.report import Report
from llm_roofline.render.compare import compare_table
from llm_roofline.render.csv import COLUMNS, operators_csv
from llm_roofline.render.table import grid, operator_table, report_table, wrap
from llm_roofline.render.text import count, number, percent, times, verdict, verdicts

MODEL = Model("llama-3-8b", 128256, 4096, 32, 32, 8, 128, 14336, max_position_embeddings=8192)
H100 = Hardware("H100", {"bf16": 989.4e12, "fp8": 1978.9e12}, 3.35e12, 80e9)
A100 = Hardware("A100", {"bf16": 312e12}, 2.039e12, 80e9)


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(MODEL, H100, Workload())


@pytest.mark.parametrize(
    ("value", "text"),
    [(752.3, "752"), (12345.6, "12,346"), (57.34, "57.3"), (1.052, "1.05"), (0.0, "0.00"),
     (0.004, "0.004"), (None, "-")],
)  # fmt: skip
def test_number(value: float | None, text: str) -> None:
    assert number(value) == text


def test_percent_count_times() -> None:
    assert percent(0.62) == "62%"
    assert percent(0.0025) == "0.2%"
    assert percent(0.0) == "0%"
    assert count(42133.4) == "42,133"
    assert count(None) == "-"
    assert [times(x) for x in (0.042, 0.61, 1.0, 2.54, 12.4, 281.2)] == [
        "0.042×", "0.61×", "1×", "2.5×", "12×", "281×",
    ]  # fmt: skip


def test_verdict_states_bound_intensity_ridge_and_margin(report: Report) -> None:
    p, ridge = report.prefill, report.ridge_point
    assert ridge == pytest.approx(295.34, abs=0.01)
    text = verdict("prefill", p, ridge)
    assert text == (
        f"prefill: compute-bound — AI {number(p.arithmetic_intensity)} FLOP/byte vs ridge 295 "
        f"({times(p.arithmetic_intensity / ridge)} above)"  # type: ignore[operator]
    )
    decode = verdicts(report)[1]
    assert decode.startswith("decode:  memory-bound — AI 1.05 FLOP/byte vs ridge 295 (")
    assert decode.endswith("× below)")


def test_grid_aligns_columns() -> None:
    text = grid(("a", "bb"), [("x", "1"), ("yyy", "22")], (False, True))
    assert text.splitlines() == ["a    bb", "---  --", "x     1", "yyy  22"]


def test_wrap_keeps_numbers_with_their_units() -> None:
    text = "word " * 17 + "KV cache 302.0 MB and 48.6 ms then 12 tokens"
    for line in wrap(text, indent="").splitlines():
        assert not line.endswith(("302.0", "48.6", " 12"))
    assert "302.0 MB" in wrap(text, indent="").replace("\n", " ")


def test_report_table_sections(report: Report) -> None:
    text = report_table(report, ["first finding", "second finding"])
    assert text.splitlines()[0] == "llama-3-8b on H100"
    for needle in ("prefill: compute-bound", "decode:  memory-bound", "metrics", "TTFT",
                   "TPOT", "MFU / MBU", "critical batch", "critical prompt", "findings",
                   "- first finding", "fits"):  # fmt: skip
        assert needle in text
    assert "operators" not in text
    assert "warnings" not in text  # none for this workload


def test_report_table_warnings_and_operators() -> None:
    w = Workload(prompt_len=8000, output_len=1000)  # past the model's 8,192 positions
    r = analyze(MODEL, H100, w)
    assert r.warnings
    text = report_table(r, per_operator=True)
    assert "warnings\n  ! prompt/context plus output" in text
    assert "prefill operators" in text and "decode operators" in text
    assert "warnings" not in report_table(r, show_warnings=False)


def test_operator_table_lists_every_row_and_shares_sum_to_one(report: Report) -> None:
    lines = operator_table(report.decode).splitlines()
    assert len(lines) == 2 + len(report.decode.operators)
    assert [line.split()[0] for line in lines[2:]] == [r.name for r in report.decode.operators]
    shares = sum(r.time_s for r in report.decode.operators) / report.decode.time_s
    assert shares == pytest.approx(1.0)


def test_csv_rows_sum_to_the_phase_totals(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(operators_csv(report))))
    assert tuple(rows[0]) == COLUMNS
    for name, phase in report.phases.items():
        mine = [r for r in rows if r["phase"] == name]
        assert [r["name"] for r in mine] == [op.name for op in phase.operators]
        for field in ("flops", "bytes", "time_s", "expected_time_s"):
            total = sum(float(r[field]) for r in mine)
            assert total == pytest.approx(getattr(phase, field), rel=1e-12)
        parts = sum(
            float(r[k]) for r in mine for k in ("weight_bytes", "activation_bytes", "kv_bytes")
        )
        assert parts == pytest.approx(phase.bytes, rel=1e-12)


def test_csv_writes_no_intensity_as_empty() -> None:
    rows = operators_csv(analyze(MODEL, H100, Workload())).splitlines()
    assert all(len(next(csv.reader([line]))) == len(COLUMNS) for line in rows)


def test_compare_table_ratios_to_the_first_column(report: Report) -> None:
    other = analyze(MODEL, A100, Workload())
    text = compare_table([("h100", report), ("a100", other)])
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    ratio = other.metrics.ttft_s / report.metrics.ttft_s
    assert f"({times(ratio)})" in lines["TTFT"]
    assert "(0.32×)" in lines["peak FLOP/s"]  # 312 / 989.4
    assert "compute-bound" in lines["prefill bound"]
    assert text.splitlines()[0].split() == ["h100", "a100"]
    with pytest.raises(ValueError, match="nothing to compare"):
        compare_table([])
