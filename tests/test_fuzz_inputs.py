"""Fuzzed inputs: any generated model, device and workload either raises one clear
ValueError/TypeError when constructed, or analyzes to a report whose every number is
finite and non-negative (walked over ``report.to_dict()``)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_roofline import Hardware, Layout, Model, MoE, Workload, analyze

# Most examples are valid (so the engine runs on them); the rest spoil one field with a
# value at or past its bound, or of the wrong type.
BAD_COUNTS = [0, -1, 10_001, 2**20 + 1, 10**7 + 1, 10**8 + 1, 10**400, True, 2.5, None, "8"]
BAD_QUANTITIES = [0.0, -1.0, 1e-300, 1e-320, 80, 3.35, 989, 1e300, float("inf"), 10**400, True]
BAD_EFFICIENCIES = [0.0, 1.5, 1e300, -0.1, float("nan")]
QUANTITY = st.floats(min_value=1e9, max_value=1e14)  # inside every device range
SETTINGS = settings(
    max_examples=1200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI results do not vary
    suppress_health_check=[HealthCheck.too_slow],
)


def _spoil(draw: Any, fields: dict[str, Any], bad: dict[str, list[Any]]) -> dict[str, Any]:
    """``fields`` as they are (two times in three), or with one field replaced by a bad value."""
    if draw(st.integers(0, 2)):
        return fields
    name = draw(st.sampled_from(sorted(bad)))
    return fields | {name: draw(st.sampled_from(bad[name]))}


def _walk(value: Any, path: str = "report") -> list[str]:
    """Paths of the numbers in ``value`` that are not finite or are negative."""
    bad: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            bad += _walk(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            bad += _walk(item, f"{path}[{i}]")
    elif (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (not math.isfinite(value) or value < 0)
    ):
        bad.append(f"{path} = {value!r}")
    return bad


def _model(draw: Any) -> Model:
    heads = draw(st.sampled_from([1, 2, 4, 8, 16]))
    layers = draw(st.one_of(st.integers(1, 8), st.sampled_from([80, 10_000])))
    # Windowed 10,000-layer models take a second each until the windowed layers are summed
    # in closed form (the engine's work, issue 13): windows here go with up to 80 layers.
    window = draw(st.one_of(st.none(), st.integers(1, 10**8))) if layers <= 80 else None
    sliding = () if window is None else tuple(range(0, layers, draw(st.integers(1, 4))))
    moe = None
    if draw(st.booleans()):
        experts = draw(st.sampled_from([1, 8, 64, 65_536]))
        moe = MoE(experts, draw(st.integers(1, min(8, experts))), draw(st.integers(1, 2**20)))
    fields = {
        "vocab_size": draw(st.integers(1, 2**24)),
        "hidden_size": draw(st.one_of(st.integers(1, 8192), st.just(2**20))),
        "num_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": draw(
            st.sampled_from([h for h in (1, 2, 4, 8, 16) if heads % h == 0])
        ),
        "head_dim": draw(st.integers(1, 256)),
        "intermediate_size": draw(st.integers(1, 2**20)),
        "sliding_window": window,
        "sliding_window_layers": sliding,
        "moe": moe,
    }
    counts = ("vocab_size", "hidden_size", "num_layers", "head_dim", "intermediate_size")
    bad = dict.fromkeys(counts, BAD_COUNTS) | {
        "moe": ["yes", 1],
        "sliding_window_layers": [None, "0,1", (10**9,)],
    }
    return Model("fuzz", **_spoil(draw, fields, bad))


def _hardware(draw: Any) -> Hardware:
    fields = {
        "peak_flops_per_s": {"bf16": draw(st.floats(1e9, 1e17)), "fp8": draw(st.floats(1e9, 1e17))},
        "bandwidth_bytes_per_s": draw(QUANTITY),
        "memory_bytes": draw(st.floats(1e6, 1e14)),
        "interconnect_bytes_per_s": draw(st.one_of(st.none(), QUANTITY)),
        "compute_efficiency": draw(st.floats(1e-6, 1.0)),
        "bandwidth_efficiency": draw(st.floats(1e-6, 1.0)),
    }
    bad = {
        "bandwidth_bytes_per_s": BAD_QUANTITIES,
        "memory_bytes": BAD_QUANTITIES,
        "interconnect_bytes_per_s": BAD_QUANTITIES,
        "compute_efficiency": BAD_EFFICIENCIES,
        "bandwidth_efficiency": BAD_EFFICIENCIES,
        "peak_flops_per_s": [{"bf16": q} for q in BAD_QUANTITIES] + [{}, "fast", None],
    }
    return Hardware("fuzz", **_spoil(draw, fields, bad))


def _workload(draw: Any) -> Workload:
    tokens = st.one_of(st.integers(1, 4096), st.sampled_from([10**8]))
    fields = {
        "batch_size": draw(st.one_of(st.integers(1, 256), st.sampled_from([10**7]))),
        "prompt_len": draw(tokens),
        "context_len": draw(st.one_of(st.none(), st.just(0), tokens)),
        "output_len": draw(st.one_of(st.just(0), tokens)),
        "weight_dtype": draw(st.sampled_from(["bf16", "fp8", "int4", "int8"])),
        "kv_dtype": draw(st.sampled_from(["bf16", "fp8", "int4"])),
        "attention": draw(st.sampled_from(["flash", "eager"])),
    }
    bad = dict.fromkeys(("batch_size", "prompt_len", "context_len", "output_len"), BAD_COUNTS)
    return Workload(**_spoil(draw, fields, bad | {"weight_dtype": ["nope", None, 4]}))


@st.composite
def built(draw: Any, part: str) -> Any:
    """One constructed input, or the exception its construction raised."""
    make = {"model": _model, "hardware": _hardware, "workload": _workload}[part]
    try:
        return make(draw)
    except (ValueError, TypeError) as exc:
        return exc


def _clear(exc: BaseException) -> bool:
    """One line that names something: a field, a value or a range."""
    text = str(exc)
    return bool(text) and "\n" not in text and len(text) < 600


@SETTINGS
@given(built("model"), built("hardware"), built("workload"))
def test_construct_then_analyze(model: Any, hardware: Any, workload: Any) -> None:
    for part in (model, hardware, workload):
        if isinstance(part, BaseException):
            assert _clear(part), repr(part)
            return
    try:
        report = analyze(model, hardware, workload)
    except (ValueError, TypeError) as exc:  # e.g. no fp32 peak for fp32 activations
        assert _clear(exc), repr(exc)
        return
    assert _walk(report.to_dict()) == []


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.fixed_dictionaries(
        {
            name: st.one_of(st.integers(1, 16), st.sampled_from([0, 65_537, 10**400, 1.5, True]))
            for name in ("tensor", "pipeline", "expert", "data", "micro_batches")
        }
    )
)
def test_layouts_construct_or_name_the_field(degrees: dict[str, Any]) -> None:
    try:
        layout = Layout(**degrees)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in degrees), str(exc)
        return
    assert all(type(getattr(layout, name)) is int for name in degrees)  # normalized
