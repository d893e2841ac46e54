"""The sweep evaluates the engine's own formulas over arrays: its rows equal analyze()."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.analyze import roofs_for
from llm_roofline.studies.scheduling import chunked_prefill
from llm_roofline.studies.sweep import AXES, HAS_ENGINE, sweep

MODELS = (
    "llama-3.1-8b",
    "mixtral-8x7b",
    "deepseek-v2-lite",
    "gemma-2-9b",
    "gpt-oss-20b",
    "qwen3-30b-a3b",
    "gpt2",
    "falcon-7b",
)
HARDWARE = ("h100-sxm", "a100-sxm-80gb", "mi300x", "b200")
REL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


def random_axes(rng: random.Random) -> dict[str, object]:
    """One small random product: scalar group fields, two values on each array axis."""
    tensor = rng.choice((1, 1, 2, 4, 3))
    expert = rng.choice((1, 1, tensor, 2 * tensor))
    pipeline = rng.choice((1, 1, 1, 2, 3))
    context = rng.choice(
        (None, [0, rng.randint(1, 8192)], [rng.randint(1, 8192), rng.randint(1, 8192)])
    )
    return {
        "model": rng.choice(MODELS),
        "hardware": rng.choice(HARDWARE),
        "weight_dtype": rng.choice(("bf16", "bf16", "fp8", "int4", "mxfp4")),
        "activation_dtype": rng.choice(("bf16", "bf16", "fp8")),
        "kv_dtype": rng.choice(("bf16", "fp8")),
        "tensor": tensor,
        "pipeline": pipeline,
        "expert": expert,
        "micro_batches": rng.choice((1, pipeline, 2)),
        "data": rng.choice((1, 2)),
        "batch_size": sorted({rng.randint(1, 64), rng.randint(1, 300)}),
        "prompt_len": sorted({rng.randint(1, 4096), rng.randint(1, 300)}),
        "context_len": context,
        # 0/1 and > 64 outputs keep analyze()'s whole-request sum cheap (request.py)
        "output_len": [rng.choice((0, 1)), rng.randint(100, 1024)],
    }


def expected_row(row: dict[str, object]) -> dict[str, object]:
    """analyze() of one row's configuration, in the sweep's column names."""
    m, hw = get_model(str(row["model"])), get_hardware(str(row["hardware"]))
    w = Workload(
        batch_size=row["batch_size"],
        prompt_len=row["prompt_len"],
        context_len=row["context_len"],
        output_len=row["output_len"],
        weight_dtype=row["weight_dtype"],
        activation_dtype=row["activation_dtype"],
        kv_dtype=row["kv_dtype"],
    )
    layout = Layout(
        **{k: row[k] for k in ("tensor", "pipeline", "expert", "data", "micro_batches")}
    )
    r = analyze(m, hw, w, layout)
    out: dict[str, object] = {
        "ttft_s": r.metrics.ttft_s,
        "tpot_s": r.metrics.tpot_s,
        "tokens_per_s": r.metrics.tokens_per_s,
        "memory_bytes_per_device": r.metrics.memory.total_bytes,
        "fits": r.metrics.memory.fits,
        "critical_batch_size": r.metrics.critical_batch_size or 0,
    }
    for phase in ("prefill", "decode"):
        ph = r.phases[phase]
        out |= {
            f"{phase}_flops": ph.flops,
            f"{phase}_bytes": ph.bytes,
            f"{phase}_bound": ph.bound,
            f"{phase}_time_s": ph.time_s,
            f"{phase}_expected_time_s": ph.expected_time_s,
        }
    return out


def test_a_thousand_random_rows_equal_analyze() -> None:
    rng = random.Random(14)
    checked = invalid = 0
    while checked < 1000:
        axes = random_axes(rng)
        model, hardware = axes.pop("model"), axes.pop("hardware")
        result = sweep(model, hardware, **axes)
        for i in range(len(result)):
            row = result.row(i)
            if not row["valid"] and not row["fits"] and row["prefill_flops"] is None:
                invalid += 1
                assert row["reason"]
                continue
            want = expected_row(row)
            for name, value in want.items():
                got = row[name]
                ok = got == value if isinstance(value, (bool, str, int)) else close(got, value)
                assert ok, (name, got, value, row)
            checked += 1
    assert invalid > 0  # the random layouts include ones that cannot run


def test_chunked_ttft_equals_chunked_prefill() -> None:
    m, hw = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    prompts = [100, 2048, 40_000]  # one chunk, a few, and more than 64 (sampled)
    result = sweep(
        m,
        hw,
        batch_size=[1, 3],
        prompt_len=prompts,
        chunk_size=[512],
        tensor=[1, 2],
        pipeline=[1, 2],
        micro_batches=[2],
    )
    for i in range(len(result)):
        row = result.row(i)
        w = Workload(batch_size=row["batch_size"], prompt_len=row["prompt_len"])
        layout = Layout(tensor=row["tensor"], pipeline=row["pipeline"], micro_batches=2)
        # TTFT: the chunks, then the engine's fixed time per request (as analyze counts it)
        overhead = roofs_for(hw, w).request_overhead_s
        want = chunked_prefill(m, hw, w, 512, layout).expected_time_s + overhead
        assert close(row["ttft_s"], want), (row, want)


def test_mla_mixes_empty_and_filled_caches() -> None:
    m, hw = get_model("deepseek-v2-lite"), get_hardware("h100-sxm")
    result = sweep(m, hw, batch_size=[2], prompt_len=[64], context_len=[0, 100])
    for i in range(2):
        row = result.row(i)
        w = Workload(batch_size=2, prompt_len=64, context_len=row["context_len"])
        assert close(row["tpot_s"], analyze(m, hw, w).metrics.tpot_s)


def test_rows_are_the_cartesian_product_in_axis_order() -> None:
    result = sweep(
        "llama-3.1-8b", "h100-sxm", tensor=[1, 2], batch_size=[1, 4, 16], output_len=[8, 9]
    )
    assert len(result) == 12
    assert result["tensor"].tolist() == [1] * 6 + [2] * 6
    assert result["batch_size"].tolist()[:6] == [1, 1, 4, 4, 16, 16]
    assert result["output_len"].tolist()[:2] == [8, 9]
    assert result["devices"].tolist() == [1] * 6 + [2] * 6
    # tokens/s per device: data × batch / TPOT / devices, by hand from the columns
    row = result.row(5)
    assert close(row["tokens_per_s_per_device"], 16 / row["tpot_s"])


def test_price_adds_cost_per_million_tokens() -> None:
    result = sweep("llama-3.1-8b", "h100-sxm", batch_size=[8], data=[2], price_per_device_hour=3.6)
    row = result.row(0)
    # 3.6 per device-hour × 2 devices = 0.002 per second; per token: / tokens_per_s
    assert close(row["cost_per_million_tokens"], 0.002 / row["tokens_per_s"] * 1e6)


def test_invalid_rows_carry_a_reason_not_an_error() -> None:
    result = sweep("llama-3.1-8b", ["h100-sxm", "m3-max"], tensor=[1, 2], batch_size=[1, 100_000])
    reasons = {
        (r["hardware"], r["tensor"], r["batch_size"]): r["reason"]
        for r in map(result.row, range(len(result)))
    }
    assert "interconnect" in reasons[("m3-max", 2, 1)]
    assert "does not fit" in reasons[("h100-sxm", 1, 100_000)]
    assert reasons[("h100-sxm", 2, 1)] == ""
    assert np.isnan(result["ttft_s"][result["hardware"] == "m3-max"][2])


@pytest.mark.parametrize(
    ("axes", "words"),
    [
        ({"batch_size": [0, 1]}, "batch_size must be >= 1, got 0"),
        ({"kv_dtype": "fp9"}, "kv_dtype must be one of"),
        ({"tensor": 1.5}, "tensor must be a whole number"),
        ({"prompt_len": []}, "sweep axis prompt_len: no values"),
        ({"chunk_size": [0]}, "chunk_size must be >= 1"),
        ({"batches": [1]}, "unknown sweep axes ['batches']"),
        ({"context_len": [None, 5]}, "context_len: None"),
    ],
)
def test_bad_axis_values_name_the_axis(axes: dict[str, object], words: str) -> None:
    with pytest.raises((ValueError, TypeError), match=None) as err:
        sweep("llama-3.1-8b", "h100-sxm", **axes)
    assert words in str(err.value)


def test_writers_round_trip(tmp_path: Path) -> None:
    import csv
    import json

    result = sweep("llama-3.1-8b", "h100-sxm", tensor=[1, 3], batch_size=[1, 2])
    result.to_csv(tmp_path / "s.csv")
    result.to_jsonl(tmp_path / "s.jsonl")
    rows = list(csv.DictReader((tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 4 and float(rows[0]["ttft_s"]) == result["ttft_s"][0]
    assert rows[3]["ttft_s"] == ""  # NaN of an invalid row: an empty field
    lines = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[1]["tpot_s"] == result["tpot_s"][1] and lines[2]["tpot_s"] is None


def test_engine_axis_when_the_workload_has_one() -> None:
    assert ("engine" in AXES) == HAS_ENGINE
    if not HAS_ENGINE:
        pytest.skip("Workload has no engine field yet")
    engine = Workload().engine  # type: ignore[attr-defined]
    result = sweep("llama-3.1-8b", "h100-sxm", engine=[engine])
    assert result["engine"][0] == engine


def test_chunks_bound_memory() -> None:
    from llm_roofline.studies.sweep import sweep_chunks
    from llm_roofline.studies.sweep_eval import ROW_CHUNK

    run = sweep_chunks(
        "llama-3.1-8b",
        "h100-sxm",
        batch_size=range(1, 301),
        prompt_len=range(1, 1001),
        critical=False,
    )
    sizes = [len(chunk["ttft_s"]) for chunk in run]
    assert len(run) == sum(sizes) == 300_000 and max(sizes) <= ROW_CHUNK


def test_a_device_with_a_measured_table_sweeps_like_analyze() -> None:
    """A measured profile's efficiency table prices arrays too: same numbers as analyze()."""
    import llm_roofline
    from llm_roofline.catalog.hardware_catalog import load_hardware_file

    result = llm_roofline.sweep(
        "qwen2.5-0.5b", "docs/profiles/dev-cpu.json", activation_dtype="fp32", batch_size=[1, 4]
    )
    hw = load_hardware_file("docs/profiles/dev-cpu.json")
    for i in range(2):
        row = result.row(i)
        assert row["valid"]
        w = Workload(batch_size=row["batch_size"], activation_dtype="fp32")
        report = analyze(get_model("qwen2.5-0.5b"), hw, w)
        assert close(row["ttft_s"], report.metrics.ttft_s)
        assert close(row["tpot_s"], report.metrics.tpot_s)


@pytest.mark.parametrize("context", [None, [0, 100, 2048, 5000, 7]])
def test_any_chunking_gives_the_same_rows(
    monkeypatch: pytest.MonkeyPatch, context: list[int] | None
) -> None:
    """Held whole (columns spread by broadcasting), streamed in chunks of 37 rows (chunks
    that split a batch's rows) and with key grids too large to cache (evaluated per chunk,
    gathered): the same columns, element for element."""
    from llm_roofline.studies import sweep_eval
    from llm_roofline.studies.sweep import SweepRun

    axes = {
        "batch_size": range(1, 13),
        "prompt_len": [5, 700, 3000],
        "context_len": context,
        "output_len": [0, 3, 64, 1000],
    }
    held = sweep("mixtral-8x7b", "h100-sxm", **axes).columns

    def streamed() -> dict[str, np.ndarray]:
        parts = list(SweepRun("mixtral-8x7b", "h100-sxm", row_chunk=37, **axes))
        assert max(len(p["valid"]) for p in parts) == 37
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    small = streamed()
    monkeypatch.setattr(sweep_eval, "GRID_CACHE", 4)
    uncached = streamed()
    assert len(held["valid"]) == 12 * 3 * (5 if context else 1) * 4
    for name, column in held.items():
        assert np.array_equal(column, small[name]), name
        assert np.array_equal(column, uncached[name]), name


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_data_frames_hold_the_columns(library: str) -> None:
    """to_pandas/to_polars: one column per sweep column, the same values, invalid rows
    with their reason; a missing library is one ImportError saying what to install."""
    lib = pytest.importorskip(library)
    result = sweep("llama-3.1-8b", "h100-sxm", batch_size=[1, 8], prompt_len=[128], tensor=[1, 3])
    frame = result.to_pandas() if library == "pandas" else result.to_polars()
    assert isinstance(frame, lib.DataFrame) and frame.shape == (4, len(result.columns))
    assert list(frame.columns) == list(result.columns)
    # tensor 3 does not divide Llama-3.1-8B's 32 heads: rows 2 and 3 cannot run
    assert list(frame["valid"]) == [True, True, False, False]
    assert "must divide num_attention_heads (32)" in str(list(frame["reason"])[2])
    for name in ("ttft_s", "tpot_s", "batch_size"):
        assert np.array_equal(np.asarray(frame[name])[:2], result.columns[name][:2])


def test_a_missing_data_frame_library_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    real = importlib.import_module

    def without_pandas(name: str, *args: object) -> object:
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", without_pandas)
    result = sweep("llama-3.1-8b", "h100-sxm", batch_size=[1])
    with pytest.raises(ImportError, match=r"Sweep.to_pandas needs pandas: pip install pandas"):
        result.to_pandas()


@pytest.mark.parametrize("bad", [0, -5, 2.5, "64"])
def test_a_bad_row_chunk_is_one_error_naming_it(bad: object) -> None:
    from llm_roofline.studies.sweep import SweepRun

    with pytest.raises((ValueError, TypeError), match="row_chunk"):  # a text: TypeError
        SweepRun("llama-3.1-8b", "h100-sxm", row_chunk=bad, batch_size=[1])
