"""The measurement machinery: device and dtype selection (pure, so CUDA paths are tested on a
CPU), the probe formulas and overhead fit by hand, the timer, and ``--quick`` runs whose
profiles ``load_hardware_file`` accepts (numpy always; torch when installed)."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from llm_roofline import Workload, analyze
from llm_roofline.catalog.hardware_catalog import PROFILE_KIND, load_hardware_file
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.measure import MeasureOptions, measure_profile
from llm_roofline.measure.device import parse_ints, select_device, select_dtypes
from llm_roofline.measure.plan import full_plan, powers_of_two, quick_plan
from llm_roofline.measure.probes import (
    attention_cost,
    efficiency,
    elementwise_cost,
    fit_overheads,
    layer_kind_counts,
    matmul_cost,
    probe_model,
)
from llm_roofline.measure.sweeps import back_to_back, calls_per_run, step_count
from llm_roofline.measure.timer import contended, median_time_s, other_cpu_s

try:
    import torch  # noqa: F401  # only probing whether it is installed

    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False
needs_torch = pytest.mark.skipif(
    not HAS_TORCH, reason="torch is not installed (pip install torch==2.13.0)"
)


# ---- device and dtype selection ------------------------------------------------------------


def test_auto_picks_cuda_only_when_torch_sees_it() -> None:
    assert select_device("auto", backend="torch", cuda_available=True) == "cuda"
    assert select_device("auto", backend="torch", cuda_available=False) == "cpu"
    assert select_device("cpu", backend="torch", cuda_available=True) == "cpu"
    assert select_device("cuda", backend="torch", cuda_available=True) == "cuda"


def test_cuda_without_a_device_or_with_numpy_is_an_error() -> None:
    with pytest.raises(ValueError, match="no CUDA device"):
        select_device("cuda", backend="torch", cuda_available=False)
    with pytest.raises(ValueError, match="torch backend"):
        select_device("cuda", backend="numpy", cuda_available=True)
    assert select_device("auto", backend="numpy", cuda_available=True) == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        select_device("tpu", backend="torch", cuda_available=False)


def test_dtype_checks() -> None:
    assert select_dtypes(
        ["float32", "bf16", "fp32"], backend="torch", device="cpu", bf16_supported=False
    ) == ("fp32", "bf16")
    assert select_dtypes(["bf16"], backend="torch", device="cuda", bf16_supported=True) == ("bf16",)
    with pytest.raises(ValueError, match="does not support bf16"):
        select_dtypes(["bf16"], backend="torch", device="cuda", bf16_supported=False)
    with pytest.raises(ValueError, match="fp32 only"):
        select_dtypes(["bf16"], backend="numpy", device="cpu", bf16_supported=False)
    with pytest.raises(ValueError, match="dtype must be one of"):
        select_dtypes(["int4"], backend="torch", device="cpu", bf16_supported=True)
    with pytest.raises(ValueError, match="at least one"):
        select_dtypes([], backend="torch", device="cpu", bf16_supported=True)


def test_parse_ints() -> None:
    assert parse_ints("--batches", "1, 4,16") == [1, 4, 16]
    with pytest.raises(ValueError, match="--batches"):
        parse_ints("--batches", "1,x")
    with pytest.raises(ValueError, match=">= 1"):
        parse_ints("--batches", "0")


# ---- probes and fits, by hand ---------------------------------------------------------------


def test_probe_costs_use_the_engine_formulas() -> None:
    op = matmul_cost("fp32", 2, 100, 300)
    assert op.flops == 2 * 2 * 100 * 300
    assert op.bytes == 4 * (100 * 300 + 2 * 100 + 2 * 300)
    att = attention_cost("bf16", quick_plan().attention, batch=2, queries=1, keys=64)
    a = quick_plan().attention
    assert att.kv_bytes == 2 * 2 * 63 * a.kv_heads * a.head_dim * 2  # K and V of 63 cached
    norm = elementwise_cost("norm", "fp32", 8, (256, 512))
    assert norm.activation_bytes == 2 * 8 * 256 * 4
    act = elementwise_cost("act_fn", "fp32", 8, (256, 512))
    assert act.activation_bytes == 3 * 8 * 512 * 4  # gate and up read, product written


def test_efficiency_subtracts_overhead_with_a_floor() -> None:
    assert efficiency(1.0, 3.0, 1.0) == pytest.approx(0.5)
    assert efficiency(1.0, 3.0, 10.0) == pytest.approx(1.0 / 0.3)  # work >= 10% of measured


def test_overhead_fit_by_hand() -> None:
    counts = Counter({"matmul": 7, "attention": 1, "elementwise": 6})
    # steps: 1 layer 500 us, 5 layers 1700 us -> 300 us per layer, 200 us fixed.
    o = fit_overheads([500e-6, 1700e-6], (1, 5), counts, 10e-6, 40e-6)
    assert o.per_layer_s == pytest.approx(300e-6)
    assert o.elementwise == pytest.approx((300e-6 - 70e-6 - 40e-6) / 6)
    assert o.gather == pytest.approx(200e-6 - 10e-6 - o.elementwise)
    assert o.as_dict()["matmul"] == 10e-6


def test_llama_layer_kind_counts() -> None:
    assert layer_kind_counts(probe_model(64, 128, 4, 2, 16)) == Counter(
        {"matmul": 7, "attention": 1, "elementwise": 6}
    )


def test_plans() -> None:
    assert powers_of_two(8) == (1, 2, 4, 8)
    full = full_plan(300 << 20)
    assert full.rotation_bytes >= 2 * (300 << 20) and max(full.tokens) == 4096
    assert step_count(quick_plan(), 1) < step_count(full, 1)


def test_timer_syncs_warms_up_and_respects_the_budget() -> None:
    calls: list[int] = []
    syncs: list[int] = []
    t = median_time_s(calls.append, lambda: syncs.append(1), warmup=2, repeats=5)
    assert calls == list(range(7)) and len(t.times_s) == 5 and len(syncs) == 6
    assert t.min_s == min(t.times_s) and t.seconds("min") == t.min_s
    assert t.seconds() == t.median_s
    calls.clear()
    t = median_time_s(calls.append, lambda: None, warmup=0, repeats=50, budget_s=0.0)
    assert len(t.times_s) == 3  # the minimum, then the budget stops it


def test_fast_linear_calls_are_timed_a_rotation_at_a_time() -> None:
    assert calls_per_run(1, copies=145) == 145  # memory-bound: one pass over the copies
    assert calls_per_run(64, copies=500) == 200  # capped
    assert calls_per_run(128, copies=145) == 1  # compute-bound: one call a run
    assert calls_per_run(1, copies=2) == 2
    seen: list[int] = []
    run = back_to_back(seen.append, 3)
    run(0)
    run(1)
    assert seen == [0, 1, 2, 3, 4, 5]  # consecutive copies, never the same one twice in a row
    single = seen.append
    assert back_to_back(single, 1) is single


def test_contention_is_other_processes_cpu_time() -> None:
    # machine busy 10.0 -> 10.9 s while this process used 0.5 s: others used 0.4 s.
    assert other_cpu_s((10.0, 1.0), (10.9, 1.5)) == pytest.approx(0.4)
    assert other_cpu_s((None, 1.0), (None, 2.0)) == 0.0  # no /proc/stat: never contended
    assert contended(0.4, wall_s=1.0) and not contended(0.01, wall_s=1.0)
    assert not contended(0.001, wall_s=0.001)  # below a clock tick: not evidence


# ---- quick runs produce valid profiles -------------------------------------------------------


def _check_profile(profile: dict, tmp_path: Path, dtypes: tuple[str, ...]) -> None:
    assert profile["kind"] == PROFILE_KIND
    assert set(profile["peak_flops_per_s"]) == set(dtypes)
    assert set(profile["efficiency_table"]["dtypes"]) == set(dtypes)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    hw = load_hardware_file(path)
    assert hw.efficiency_table is not None and hw.bandwidth_bytes_per_s > 0
    w = Workload(
        batch_size=2, prompt_len=64, weight_dtype="fp32", activation_dtype="fp32", kv_dtype="fp32"
    )
    report = analyze(get_model("smollm2-135m"), hw, w)
    for phase in report.phases.values():
        assert 0 < phase.time_s <= phase.expected_time_s


def test_quick_numpy_profile_is_accepted(tmp_path: Path) -> None:
    profile = measure_profile(MeasureOptions(dtypes=("fp32",), quick=True, backend="numpy"))
    _check_profile(profile, tmp_path, ("fp32",))
    assert profile["efficiency_table"]["overhead_mode"] == "sum"


@needs_torch
def test_quick_torch_profile_is_accepted(tmp_path: Path) -> None:
    profile = measure_profile(MeasureOptions(device="cpu", quick=True, backend="torch", threads=1))
    _check_profile(profile, tmp_path, ("fp32", "bf16"))
    entry = profile["efficiency_table"]["dtypes"]["fp32"]
    assert entry["overhead_method"] == "tiny-decoder fit" and entry["per_layer_overhead_s"] > 0
    assert profile["machine"]["threads_used"] == 1
    # the host probe and, with transformers installed, its engines (hf_engine.py)
    probe = profile["efficiency_table"]["host_probe"]
    assert probe["gemm_flops_per_s"]["fp32"] > 0 and probe["read_bytes_per_s"] > 0
    if importlib.util.find_spec("transformers") is not None:
        table = profile["efficiency_table"]
        assert sorted(table["engines"]) == ["transformers", "transformers-static"]
        assert table["dtypes"]["fp32"]["elementwise"]["framework_step"]["fixed_s"] >= 0


def test_cli_measure_writes_a_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cpu.json"
    code = main(["measure", "--quick", "--backend", "numpy", "--dtypes", "fp32", "--out", str(out)])
    assert code == 0 and "wrote" in capsys.readouterr().err
    assert load_hardware_file(out).name.endswith("measured)")


def test_cli_measure_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "--quick", "--backend", "numpy", "--dtypes", "bf16"]) == 2
    err = capsys.readouterr().err
    assert "fp32 only" in err and len(err.strip().splitlines()) == 1
    assert main(["measure", "--quick", "--out", "profile.txt"]) == 2
