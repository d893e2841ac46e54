"""The validation machinery: the reference model's correctness, the grid, the comparison
(by hand, without torch), and an end-to-end run on a tiny model (torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_roofline import Hardware, Model, MoE
from llm_roofline.cli import main
from llm_roofline.validate.compare import Row, compare, flat_hardware, summarize, validation
from llm_roofline.validate.harness import Point, Timed, build_bytes, grid, pack_builds
from llm_roofline.validate.render import render_markdown, render_table

try:
    import torch

    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False
needs_torch = pytest.mark.skipif(
    not HAS_TORCH, reason="torch is not installed (pip install torch==2.13.0)"
)


def tiny(**extra: object) -> Model:
    return Model("tiny-llama", 97, 64, 2, 4, 2, 16, 96, max_position_embeddings=256, **extra)  # type: ignore[arg-type]


def device() -> Hardware:
    return Hardware("cpu-ish", {"fp32": 100e9, "bf16": 400e9}, 20e9, 16e9)


# ---- without torch ---------------------------------------------------------------------------


def test_grid_prefill_then_decode_per_dtype() -> None:
    points = grid(["fp32", "bf16"], [128, 512], [1, 4], [256])
    assert points[:4] == [
        Point("prefill", "fp32", 1, 128),
        Point("prefill", "fp32", 1, 512),
        Point("decode", "fp32", 1, 256),
        Point("decode", "fp32", 4, 256),
    ]
    assert len(points) == 8


def test_errors_and_summary_by_hand() -> None:
    rows = [
        Row(
            "m", "fp32", "decode", 1, 64, measured_s=1.0, ideal_s=0.5, calibrated_s=1.1, flat_s=0.8
        ),
        Row(
            "m", "fp32", "decode", 4, 64, measured_s=2.0, ideal_s=1.0, calibrated_s=1.8, flat_s=1.0
        ),
        Row(
            "m", "fp32", "decode", 8, 64, measured_s=4.0, ideal_s=4.4, calibrated_s=4.2, flat_s=2.0
        ),
    ]
    assert rows[0].calibrated_error == pytest.approx(0.1)
    assert rows[1].ideal_error == pytest.approx(-0.5)
    (s,) = summarize(rows)
    assert s.points == 3
    assert s.calibrated_median_abs_error == pytest.approx(0.1)
    assert s.calibrated_worst_abs_error == pytest.approx(0.1)
    assert s.flat_median_abs_error == pytest.approx(0.5)
    assert not s.ideal_never_above  # the third row's ideal is above its measurement
    v = validation(rows, {"model": "m"})
    data = v.to_dict()
    assert data["schema"] == "llm-roofline/validation/v1" and len(data["rows"]) == 3
    assert data["rows"][0]["calibrated_error"] == pytest.approx(0.1)
    assert "IDEAL ABOVE MEASURED" in render_table(v)
    assert "| fp32 | decode | 3 |" in render_markdown(v)


def test_compare_uses_the_analysis_of_the_same_workload() -> None:
    m, hw = tiny(), device()
    timed = [
        Timed(Point("decode", "fp32", 2, 32), 1e-3, (1e-3,)),
        Timed(Point("prefill", "fp32", 1, 16), 1e-3, (1e-3,)),
    ]
    rows = compare(m, hw, timed)
    assert [r.phase for r in rows] == ["decode", "prefill"]
    for r in rows:
        assert 0 < r.ideal_s <= r.calibrated_s  # no table: flat 0.7 efficiencies
        assert r.flat_s == pytest.approx(r.calibrated_s)
    assert flat_hardware(hw).efficiency_table is None


@needs_torch  # the reference model (and its check) imports torch
def test_unsupported_models_are_rejected_with_the_feature() -> None:
    from llm_roofline.measure.reference_model import check_supported

    check_supported(tiny(qkv_bias=True, tie_word_embeddings=True))
    moe = tiny(moe=MoE(num_experts=4, experts_per_token=2, expert_intermediate_size=32))
    with pytest.raises(ValueError, match="moe"):
        check_supported(moe)
    with pytest.raises(ValueError, match="layernorm"):
        check_supported(tiny(norm="layernorm"))


def test_build_bytes_and_packing_by_hand() -> None:
    m = tiny()  # 74,176 parameters; 2 layers, KV width 2 heads x 16 = 32
    decode = [Point("decode", "fp32", 2, 8), Point("decode", "fp32", 1, 8)]
    # weights 74,176 x 4 B + KV 2 layers x (K, V) x 32 x 4 B x batch 2 x 9 positions
    assert build_bytes(m, decode) == 74_176 * 4 + 2 * 2 * 32 * 4 * 2 * 9 == 305_920
    assert build_bytes(m, decode, per_point_caches=True) == 305_920 + 9_216  # one per point
    prefill = [Point("prefill", "bf16", 1, 16)]
    # weights 74,176 x 2 B + KV 2 x 2 x 32 x 2 B x 1 x 17 + 16 tokens x (4 x 96 + 8 x 64) x 4 B
    assert build_bytes(m, prefill) == 148_352 + 4_352 + 57_344
    builds = [(0, m, decode), (0, m, prefill), (1, m, decode)]
    packs = pack_builds(builds, budget_bytes=600_000)
    assert [[b[2] is decode for b in pack] for pack in packs] == [[True, False], [True]]
    assert len(pack_builds(builds, budget_bytes=None)) == 3  # unknown memory: one at a time
    assert len(pack_builds(builds, budget_bytes=1.0)) == 3  # too big: each goes alone


# ---- with torch --------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("qkv_bias", [False, True])
def test_prefill_decode_and_chunked_paths_agree(qkv_bias: bool) -> None:
    from llm_roofline.measure.reference_model import build_decoder

    m = tiny(qkv_bias=qkv_bias, tie_word_embeddings=not qkv_bias)
    decoder = build_decoder(m, batch=2, max_len=32, dtype=torch.float32)
    tokens = torch.randint(0, m.vocab_size, (2, 10), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        full = decoder(tokens, 0)  # causal SDPA over fresh K/V, GQA
        for i in range(10):  # one token at a time: grouped-query decode over the cache
            stepped = decoder(tokens[:, i : i + 1], i)
        decoder(tokens[:, :6], 0)
        chunked = decoder(tokens[:, 6:], 6)  # explicit bottom-right causal mask
    assert full.shape == (2, m.vocab_size)
    torch.testing.assert_close(stepped, full, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(chunked, full, rtol=1e-4, atol=1e-5)


@needs_torch
def test_reference_model_matches_the_parameter_count() -> None:
    from llm_roofline.measure.reference_model import build_decoder

    for m in (tiny(), tiny(qkv_bias=True, tie_word_embeddings=True)):
        decoder = build_decoder(m, batch=1, max_len=8, dtype=torch.float32)
        assert sum(p.numel() for p in decoder.parameters()) == m.parameter_count


@needs_torch
def test_cache_overflow_is_an_error() -> None:
    from llm_roofline.measure.reference_model import build_decoder

    decoder = build_decoder(tiny(), batch=1, max_len=8, dtype=torch.float32)
    with pytest.raises(ValueError, match="exceed the cache"), torch.inference_mode():
        decoder(torch.zeros(1, 4, dtype=torch.long), 6)


@needs_torch
def test_end_to_end_on_a_tiny_model() -> None:
    from llm_roofline.validate import run_validation
    from llm_roofline.validate.harness import TimingOptions

    points = grid(["fp32", "bf16"], [16], [1, 2], [32])
    opts = TimingOptions(warmup=1, repeats=3, threads=1)
    seen: list[Point] = []
    v = run_validation(tiny(), device(), points, opts, lambda p, t: seen.append(p))
    assert seen == points and len(v.rows) == len(points)
    for r in v.rows:
        assert r.measured_s > 0 and r.ideal_s > 0 and r.calibrated_s > 0
    assert {(s.dtype, s.phase) for s in v.summary} == {
        ("fp32", "prefill"),
        ("fp32", "decode"),
        ("bf16", "prefill"),
        ("bf16", "decode"),
    }
    assert v.to_dict()["meta"]["threads"] == 1


@needs_torch
def test_several_models_share_rounds_and_keep_their_order() -> None:
    from llm_roofline.validate import run_validations
    from llm_roofline.validate.harness import TimingOptions

    other = Model("tiny-qwen", 101, 48, 1, 3, 1, 16, 64, qkv_bias=True)
    points = grid(["fp32"], [8], [1], [16])
    seen: list[tuple[str, Point]] = []
    opts = TimingOptions(warmup=1, repeats=2, threads=1)
    results = run_validations(
        [(tiny(), points), (other, points[::-1])],
        device(),
        opts,
        lambda m, p, t: seen.append((m.name, p)),
    )
    assert [v.meta["model"] for v in results] == ["tiny-llama", "tiny-qwen"]
    assert [(r.phase, r.tokens) for r in results[0].rows] == [("prefill", 8), ("decode", 16)]
    assert [(r.phase, r.tokens) for r in results[1].rows] == [("decode", 16), ("prefill", 8)]
    assert set(seen) == {(name, p) for name in ("tiny-llama", "tiny-qwen") for p in points}
    assert len(seen) == 4


def _tiny_config(tmp_path: Path) -> Path:
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": 97,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 96,
        "max_position_embeddings": 256,
        "tie_word_embeddings": True,
        "rms_norm_eps": 1e-5,
        "hidden_act": "silu",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


@needs_torch
def test_cli_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hw = tmp_path / "hw.json"
    hw.write_text(
        json.dumps(
            {
                "name": "cpu",
                "peak_flops_per_s": {"fp32": 1e11},
                "bandwidth_bytes_per_s": 2e10,
                "memory_bytes": 1e10,
            }
        )
    )
    args = [
        "validate",
        "--model",
        str(_tiny_config(tmp_path)),
        "--hardware",
        str(hw),
        "--dtypes",
        "fp32",
    ]
    args += [
        "--prompt-lens",
        "8",
        "--batches",
        "1",
        "--context-lens",
        "16",
        "--repeats",
        "2",
        "--threads",
        "1",
    ]
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["phase"] for r in data["rows"]] == ["prefill", "decode"]
    assert main([*args, "--format", "table"]) == 0
    assert "calibrated median" in capsys.readouterr().out


@needs_torch  # the reference model (and its check) imports torch
def test_cli_validate_rejects_unsupported_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--model", "mixtral-8x7b", "--hardware", "h100-sxm"]) == 2
    assert "moe" in capsys.readouterr().err


def test_published_runs_never_beat_our_ideal() -> None:
    from llm_roofline.validate.published import achieved_medians, published_rows, render_published

    rows = published_rows()
    assert len(rows) >= 15
    for r in rows:
        assert 0 < r.achieved < 1, r.run.id  # a lower bound on every published measurement
    medians = achieved_medians(rows)
    assert 0.5 < medians["decode"] < 0.8 and 0.5 < medians["prefill"] < 0.8
    assert "lmdeploy-prefill2048-Llama-2-7B-tp1" in render_published(rows)


@needs_torch
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--models", "nosuch-model"], "nosuch-model"),
        (["--models", ","], "--models"),
        (["--batches", "1,x"], "--batches"),
        (["--context-lens=-1"], "--context-lens"),
        (["--dtypes", "fp8"], "fp8"),
        (["--profile", "/no/such/profile.json"], "/no/such/profile.json"),
    ],
)
def test_validation_benchmark_rejects_bad_options(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    path = Path(__file__).parent.parent / "benchmarks" / "bench_validation.py"
    spec = importlib.util.spec_from_file_location("bench_validation", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench_validation: error:") and named in err
    assert len(err.strip().splitlines()) == 1
