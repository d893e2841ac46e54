"""Host drift (validate/drift.py) and the transformers framework fit (measure/hf_engine.py):
ratios, the round a point's run came from, the normalization of a phase, bad probes."""

from __future__ import annotations

from typing import Any

import pytest

from llm_roofline.engine.report import OperatorRow, Phase
from llm_roofline.measure.hf_engine import _fit
from llm_roofline.measure.host_probe import HostSpeed
from llm_roofline.validate import drift
from llm_roofline.validate.compare import Row, host_drift_warning, validation

REF = HostSpeed({"fp32": 100e9, "bf16": 1000e9}, 20e9)


def _row(name: str, bound: str, ideal: float, expected: float) -> OperatorRow:
    return OperatorRow(name, "x", 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, bound, ideal, expected)


def _phase(rows: list[OperatorRow]) -> Phase:
    return Phase(0.0, 0.0, None, "memory-bound", 0.0, 0.0, 0.0, 0.0, 0.0, tuple(rows))


def test_ratios_are_now_over_profile_per_dtype() -> None:
    now = HostSpeed({"fp32": 80e9, "bf16": 1500e9}, 10e9)
    r = drift.ratios(now, REF, "bf16")
    assert (r.compute, r.memory) == pytest.approx((1.5, 0.5))
    assert r.slower_by == pytest.approx(0.5)
    assert drift.ratios(now, REF, "fp32").compute == pytest.approx(0.8)
    assert drift.ratios(now, REF, "fp16").compute == 1.0  # a dtype the probe lacks: as is


def test_point_takes_the_round_of_its_fastest_run_under_min() -> None:
    rounds = [drift.Ratios(0.5, 0.6), drift.Ratios(1.0, 0.9), drift.Ratios(0.7, 0.7)]
    assert drift.point_ratios(rounds, [3.0, 1.0, 2.0], "min") == rounds[1]
    median = drift.point_ratios(rounds, [3.0, 1.0, 2.0], "median")
    assert (median.compute, median.memory) == (0.7, 0.7)


def test_normalization_divides_each_row_by_its_roof_ratio() -> None:
    phase = _phase(
        [
            _row("gemm", "compute-bound", 1.0, 2.0),
            _row("gemv", "memory-bound", 3.0, 4.0),
            _row("step_overhead", "fixed cost", 0.0, 0.5),
            _row("framework_layer", "memory-bound", 0.0, 1.0),  # no ideal: a fixed cost
        ]
    )
    ideal, expected = drift.normalized(phase, drift.Ratios(0.5, 0.8))
    assert ideal == pytest.approx(1.0 / 0.5 + 3.0 / 0.8)
    assert expected == pytest.approx(2.0 / 0.5 + 4.0 / 0.8 + 0.5 / 0.5 + 1.0 / 0.5)


def test_a_slow_host_is_re_probed_then_accepted() -> None:
    slow, fast = HostSpeed({"fp32": 50e9}, 20e9), HostSpeed({"fp32": 95e9}, 19e9)
    seen = iter([slow, fast])
    drift.PAUSE_S, pause = 0.0, drift.PAUSE_S
    try:
        speed, retries = drift.probe_round(lambda: next(seen), REF, ["fp32"])
        assert (speed, retries) == (fast, 1)
        always = drift.probe_round(lambda: slow, REF, ["fp32"])
        assert always == (slow, drift.RETRIES)
    finally:
        drift.PAUSE_S = pause


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "host_probe: expected an object"),
        ({"gemm_flops_per_s": {}, "read_bytes_per_s": 1.0}, "gemm_flops_per_s: expected"),
        ({"gemm_flops_per_s": {"fp32": -1}, "read_bytes_per_s": 1.0}, r"gemm_flops_per_s\.fp32"),
        ({"gemm_flops_per_s": {"fp32": 1.0}, "read_bytes_per_s": True}, "read_bytes_per_s"),
    ],
)
def test_bad_probe_records_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HostSpeed.from_dict(data)


def test_profile_without_probe_is_none_and_with_one_is_parsed() -> None:
    assert drift.profile_speed(None) is None
    assert drift.profile_speed({"format": "x"}) is None
    table = {"host_probe": {"gemm_flops_per_s": {"fp32": 2.0}, "read_bytes_per_s": 3.0}}
    assert drift.profile_speed(table) == HostSpeed({"fp32": 2.0}, 3.0)


def test_the_warning_says_the_host_was_slower() -> None:
    slow = Row("m", "bf16", "decode", 1, 256, 1.0, 0.5, 0.6, 0.7, 5, 5, 0.1, 0.6, 0.9)
    fine = Row("m", "bf16", "decode", 4, 256, 1.0, 0.5, 0.6, 0.7, 5, 5, 0.1, 0.95, 0.99)
    text = host_drift_warning(validation([slow, fine], {}))
    assert text is not None and "1 of 2 points" in text and "40%" in text
    assert host_drift_warning(validation([fine], {})) is None


def test_framework_fit_is_the_excess_of_slope_and_intercept() -> None:
    # measured 3 ms at 1 layer, 7 ms at 5: slope 1 ms, intercept 2 ms; predicted 1.2 ms
    # and 2.0 ms: slope 0.2 ms, intercept 1.0 ms -> framework 0.8 ms/layer, 1.0 ms/step
    fit = _fit([3e-3, 7e-3], [1.2e-3, 2.0e-3])
    assert fit["framework_layer_s"] == pytest.approx(0.8e-3)
    assert fit["framework_step_s"] == pytest.approx(1.0e-3)
    assert _fit([1e-3, 1e-3], [1e-3, 2e-3])["framework_layer_s"] == 0.0  # never negative
