"""`plan`: the search equals a brute-force loop over analyze(); hand-checkable cases."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from llm_roofline import Layout, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.engine.memory import serving_memory_bytes
from llm_roofline.studies.plan import layouts, plan
from llm_roofline.studies.plan_eval import RequestClass, continuous_batching, disaggregated_rate
from llm_roofline.studies.plan_result import PlanInfeasible

REL = 1e-9


def test_continuous_batching_by_hand() -> None:
    # B = 4, prefill 0.1 s, decode step 0.01 s, n = 11 tokens (10 decode steps):
    # a slot is held 4·0.1 + 10·0.01 = 0.5 s for 4·11 = 44 tokens: 88 tokens/s;
    # a user waits 0.01 + 3·0.1/10 = 0.04 s between tokens (three others' prefills).
    rate, tpot = continuous_batching(4, 0.1, 0.01, 11.0, 10.0)
    assert math.isclose(rate, 88.0) and math.isclose(tpot, 0.04)


def test_disaggregated_rate_by_hand() -> None:
    # 2 prefill replicas at 0.5 s a prompt: 4 requests/s; 1 decode replica of 8 slots at
    # 10 steps of 0.05 s: 8 / 0.5 = 16 requests/s; the pools together: 4 requests/s.
    assert math.isclose(float(disaggregated_rate(2, 0.5, 1, 8, 0.05, 10.0)), 4.0)


def brute_force(m, hw, devices, batches, req, limits, kv_dtypes=("bf16",)):  # type: ignore[no-untyped-def]
    """Every (layout, KV format, batch) priced by analyze() one at a time:
    (value, layout, batch, tpot, KV format) of the best."""
    ttft_limit, tpot_limit = limits
    best = None
    for kv in kv_dtypes:
        best = _brute(m, hw, devices, batches, req, ttft_limit, tpot_limit, kv, best)
    return best


def _brute(m, hw, devices, batches, req, ttft_limit, tpot_limit, kv, best):  # type: ignore[no-untyped-def]
    for t in range(1, devices + 1):
        for p in range(1, devices + 1):
            if devices % (t * p):
                continue
            layout = Layout(tensor=t, pipeline=p, micro_batches=p)
            try:
                layout.check(m)
            except ValueError:
                continue
            w = Workload(
                prompt_len=req.prompt_len,
                context_len=req.decode_context,
                output_len=req.output_len,
                kv_dtype=kv,
            )
            t_pf = analyze(m, hw, dataclasses.replace(w, batch_size=1), layout).metrics.ttft_s
            for b in batches:
                t_dec = analyze(m, hw, dataclasses.replace(w, batch_size=b), layout).metrics.tpot_s
                rate, tpot = continuous_batching(b, t_pf, t_dec, req.output_len, req.output_len - 1)
                fits = serving_memory_bytes(m, w, layout, b) <= 0.9 * hw.memory_bytes
                if fits and t_pf <= ttft_limit and tpot <= tpot_limit:
                    value = rate / (t * p)
                    if best is None or value > best[0]:
                        best = (value, (t, p), b, tpot, kv)
    return best


def test_plan_equals_brute_force_over_analyze() -> None:
    m, hw = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    req = RequestClass(512, 64)
    batches = [1, 8, 64, 256]
    result = plan(
        m, hw, [4], prompt_len=512, output_len=64, batch_sizes=batches, ttft_s=0.5, tpot_s=0.02
    )
    value, (t, p), b, tpot, _kv = brute_force(m, hw, 4, batches, req, (0.5, 0.02))
    best = result.best
    assert (best.layout["tensor"], best.layout["pipeline"], best.batch_size) == (t, p, b)
    assert math.isclose(best.tokens_per_s_per_device, value, rel_tol=REL)
    assert math.isclose(best.tpot_s, tpot, rel_tol=REL)
    n_layouts = len(layouts(m, hw, [4]))  # (1,1) (1,2) (1,4) (2,1) (2,2) (4,1)
    assert n_layouts == 6 and result.searched == n_layouts * len(batches)


def test_two_kv_formats_in_one_evaluation_equal_brute_force() -> None:
    m, hw = get_model("qwen2.5-7b"), get_hardware("a100-sxm-80gb")
    req = RequestClass(1024, 128)
    batches = [1, 16, 128]
    kwargs = {
        "prompt_len": 1024,
        "output_len": 128,
        "batch_sizes": batches,
        "ttft_s": 1.0,
        "tpot_s": 0.04,
    }
    result = plan(m, hw, [2], kv_dtypes=("bf16", "fp8"), **kwargs)  # type: ignore[arg-type]
    value, (t, p), b, tpot, kv = brute_force(m, hw, 2, batches, req, (1.0, 0.04), ("bf16", "fp8"))
    best = result.best
    assert (best.layout["tensor"], best.layout["pipeline"], best.batch_size, best.kv_dtype) == (
        t,
        p,
        b,
        kv,
    )
    assert math.isclose(best.tokens_per_s_per_device, value, rel_tol=REL)
    assert math.isclose(best.tpot_s, tpot, rel_tol=REL)


def test_a_model_that_fits_only_at_tp_2() -> None:
    m = get_model("llama-3.1-8b")
    hw = dataclasses.replace(get_hardware("h100-sxm"), memory_bytes=16e9)
    # bf16 weights alone: 8.03e9 parameters × 2 bytes = 16.06 GB > 0.9 × 16 GB usable
    assert m.parameter_count * 2 > 0.9 * 16e9
    result = plan(m, hw, [2], pipeline=[1], batch_sizes=[1, 2, 4])
    assert result.best.layout == {"tensor": 2, "pipeline": 1, "expert": 1, "data": 1}
    with pytest.raises(PlanInfeasible, match="no deployment fits in memory: the smallest need is"):
        plan(m, hw, [1], batch_sizes=[1])


def test_an_sla_no_layout_meets_says_which_limit_and_by_how_much() -> None:
    m, hw = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    with pytest.raises(PlanInfeasible) as err:
        plan(m, hw, [1], prompt_len=512, output_len=64, batch_sizes=[1, 2], tpot_s=5e-3)
    # the fastest time between tokens is batch 1's decode step (no other user's prefill)
    w = Workload(
        batch_size=1,
        prompt_len=512,
        context_len=RequestClass(512, 64).decode_context,
        output_len=64,
    )
    fastest = analyze(m, hw, w).metrics.tpot_s
    text = str(err.value)
    assert text.startswith("no deployment meets the limits: TPOT fails first")
    assert 5e-3 < fastest < 1e-2  # over the limit, but less than twice it: said in percent
    pct = int(re.search(r"(\d+)% over the 5.00 ms limit", text).group(1))  # type: ignore[union-attr]
    assert pct == round(100 * (fastest / 5e-3 - 1))


def test_both_limits_met_alone_but_not_together() -> None:
    m, h100 = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    peaks = {k: v / 10 for k, v in h100.peak_flops_per_s.items()}
    compute = dataclasses.replace(
        h100, id="compute", name="compute", bandwidth_bytes_per_s=h100.bandwidth_bytes_per_s / 10
    )
    memory = dataclasses.replace(h100, id="memory", name="memory", peak_flops_per_s=peaks)
    one = {
        hw.id: plan(m, hw, [1], prompt_len=2048, output_len=64, batch_sizes=[1]).best
        for hw in (compute, memory)
    }
    # the compute-rich device prefills faster, the bandwidth-rich one decodes faster
    assert (
        one["compute"].ttft_s < one["memory"].ttft_s
        and one["memory"].tpot_s < one["compute"].tpot_s
    )
    ttft, tpot = one["compute"].ttft_s * 1.01, one["memory"].tpot_s * 1.01
    with pytest.raises(PlanInfeasible) as err:
        plan(
            m,
            [compute, memory],
            [1],
            prompt_len=2048,
            output_len=64,
            batch_sizes=[1],
            ttft_s=ttft,
            tpot_s=tpot,
        )
    text = str(err.value)
    assert text.startswith("no deployment meets both limits: among those with TTFT <=")
    ratio = one["compute"].tpot_s / tpot  # about 10: said as a multiple of the limit
    assert "on 1 compute, batch 1" in text and f"{ratio:.3g}× the" in text


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"devices": [0]}, "devices must be >= 1"),
        ({"devices": [1], "batch_sizes": [0]}, "batch_sizes must be >= 1"),
        ({"devices": [1], "tpot_s": -1.0}, "tpot_s must be > 0"),
        ({"devices": [1], "mode": "split"}, "mode must be one of"),
        ({"devices": [1], "reserve_fraction": 1.0}, "reserve_fraction must be in [0, 1)"),
        ({"devices": [1], "output_len": 1}, "output_len must be >= 2"),
        (
            {"devices": [1], "price_per_hour": {"a100-sxm-80gb": 1.0}},
            "no price for hardware 'h100-sxm'",
        ),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        plan("llama-3.1-8b", "h100-sxm", **kwargs)  # type: ignore[arg-type]


def test_json_shape_and_disaggregated_comparison(tmp_path: Path) -> None:
    result = plan(
        "llama-3.1-70b", "h200", [8], ttft_s=2.0, tpot_s=0.05, mode="both", price_per_hour=3.5
    )
    data = json.loads(result.to_json())
    assert {"best", "candidates", "pareto", "searched", "seconds"} <= set(data)
    for d in [data["best"], *data["candidates"], *data["pareto"]]:
        assert {
            "layout",
            "batch_size",
            "weight_dtype",
            "kv_dtype",
            "ttft_s",
            "tpot_s",
            "tokens_per_s_per_device",
            "tokens_per_s_per_user",
            "memory_bytes_per_device",
            "why",
        } <= set(d)
        assert set(d["layout"]) == {"tensor", "pipeline", "expert", "data"}
    assert data["best"]["why"] and data["candidates"][1]["why"]
    dis = data["disaggregated"]
    assert dis["best"]["mode"] == "disaggregated" and "aggregated" in dis["comparison"]
    best = result.best
    # the cost of a million tokens: 3.5 per device-hour / 3600 / tokens per second per device
    assert math.isclose(
        best.cost_per_million_tokens or 0, 3.5 / 3600 / best.tokens_per_s_per_device * 1e6
    )
    from llm_roofline.render.plan_plot import plot_plan

    for name in ("pareto.png", "pareto.svg"):
        assert plot_plan(result, tmp_path / name).stat().st_size > 1000


def test_request_mix_takes_the_worst_ttft() -> None:
    mix = [RequestClass(256, 32, 3.0), RequestClass(4096, 128, 1.0)]
    result = plan("llama-3.1-8b", "h100-sxm", [1], requests=mix, batch_sizes=[1, 4])
    alone = plan(
        "llama-3.1-8b", "h100-sxm", [1], prompt_len=4096, output_len=128, batch_sizes=[1, 4]
    )
    assert math.isclose(result.best.ttft_s, alone.best.ttft_s, rel_tol=REL)


def test_memory_of_every_candidate_is_serving_memory() -> None:
    """plan reads the live bytes of the passes it priced; each candidate's memory is still
    engine/memory.serving_memory_bytes of its layout, batch and KV format."""
    m, hw = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    result = plan(
        m, hw, [4], prompt_len=512, output_len=64, batch_sizes=[1, 8, 64],
        kv_dtypes=("bf16", "fp8"), top=12,
    )  # fmt: skip
    assert any(d.layout["pipeline"] > 1 for d in result.candidates)
    for d in result.candidates:
        t, p = d.layout["tensor"], d.layout["pipeline"]
        w = Workload(prompt_len=512, context_len=512 + 31, output_len=64, kv_dtype=d.kv_dtype)
        layout = Layout(tensor=t, pipeline=p, micro_batches=p)
        expected = serving_memory_bytes(m, w, layout, d.batch_size)
        assert math.isclose(d.memory_bytes_per_device, expected, rel_tol=1e-12)


def test_a_request_rate_limit() -> None:
    """--rate R keeps deployments that finish R requests/s: tokens/s over the output
    length (aggregated), min(x / t_prefill, y·B / ((n − 1)·t_decode)) (disaggregated)."""
    m, hw = get_model("llama-3.1-8b"), get_hardware("h100-sxm")
    kwargs = {"prompt_len": 1024, "output_len": 128, "batch_sizes": [1, 4, 16, 64]}
    free = plan(m, hw, [1, 2, 4], tpot_s=0.02, **kwargs)  # type: ignore[arg-type]
    assert math.isclose(free.best.requests_per_s, free.best.tokens_per_s / 128, rel_tol=1e-12)
    # Ask for more than the unconstrained best gives: a deployment on more devices wins.
    rate = 1.5 * free.best.requests_per_s
    limited = plan(m, hw, [1, 2, 4], tpot_s=0.02, requests_per_s=rate, **kwargs)  # type: ignore[arg-type]
    assert limited.best.requests_per_s >= rate and limited.best.devices > free.best.devices
    assert limited.sla["requests_per_s"] == rate
    with pytest.raises(PlanInfeasible, match=r"no deployment sustains 1e\+06 requests/s"):
        plan(m, hw, [1, 2, 4], tpot_s=0.02, requests_per_s=1e6, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="requests_per_s"):
        plan(m, hw, [1], requests_per_s=0.0, **kwargs)  # type: ignore[arg-type]
    both = plan(m, hw, [8], tpot_s=0.02, requests_per_s=rate, mode="disaggregated", **kwargs)  # type: ignore[arg-type]
    d = both.best
    assert d.mode == "disaggregated" and d.requests_per_s >= rate
    assert d.prefill_pool is not None and d.decode_pool is not None
    x, y = d.prefill_pool["replicas"], d.decode_pool["replicas"]
    pf = analyze(
        m, hw, Workload(batch_size=1, prompt_len=1024, output_len=128), _layout(d.prefill_pool)
    )
    t_pf = pf.metrics.ttft_s  # one prompt's prefill on a prefill replica
    t_dec = d.tpot_s
    by_hand = min(x / t_pf, y * d.batch_size / (127 * t_dec))
    assert math.isclose(d.requests_per_s, by_hand, rel_tol=1e-9)


def _layout(pool: dict[str, object]) -> Layout:
    lay = pool["layout"]
    assert isinstance(lay, dict)
    return Layout(tensor=lay["tensor"], pipeline=lay["pipeline"], micro_batches=lay["pipeline"])


def test_cli_rate(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_roofline.cli import main

    args = ["plan", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--devices", "4"]
    assert main([*args, "--tpot-ms", "20", "--rate", "5"]) == 0
    assert ">= 5 requests/s" in capsys.readouterr().out
    assert main([*args, "--rate", "0"]) == 2
    err = capsys.readouterr().err
    assert "--rate" in err and "0" in err and "Traceback" not in err
