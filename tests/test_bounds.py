"""Plausible ranges (inputs/bounds.py) and the type checks of the public constructors:
each bad value gets one error naming the field, the value and the range."""

from __future__ import annotations

from typing import Any

import pytest

from llm_roofline import MLA, Hardware, Layout, Model, MoE, Workload
from llm_roofline.inputs import bounds
from llm_roofline.inputs.arguments import check_analysis_arguments
from llm_roofline.inputs.checks import integer

H100 = {"name": "H100", "peak_flops_per_s": {"bf16": 989.4e12}}


def hardware(**change: Any) -> Hardware:
    fields: dict[str, Any] = {
        **H100,
        "bandwidth_bytes_per_s": 3.35e12,
        "memory_bytes": 80e9,
    }
    return Hardware(**(fields | change))


def model(**change: Any) -> Model:
    fields: dict[str, Any] = {
        "name": "tiny",
        "vocab_size": 100,
        "hidden_size": 64,
        "num_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 128,
    }
    return Model(**(fields | change))


# ---- ranges and unit hints ---------------------------------------------------------------


def test_describe_each_kind_of_range() -> None:
    assert bounds.BANDWIDTH.describe() == "1 GB/s to 100 TB/s"
    assert bounds.PEAK_FLOPS.describe() == "1 GFLOP/s to 100 PFLOP/s"
    assert bounds.MEMORY.describe() == "1 MB to 100 TB"
    assert bounds.LAYERS.describe() == "1 to 10,000"
    assert bounds.WIDTH.describe() == "1 to 1,048,576"
    assert bounds.EFFICIENCY.describe() == "(0, 1]"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "memory_bytes",
            80,
            "memory_bytes = 80 B is outside the plausible range 1 MB to 100 TB; did you mean 80GB?",
        ),
        (
            "bandwidth_bytes_per_s",
            3.35,
            "bandwidth_bytes_per_s = 3.35 B/s is outside the plausible range 1 GB/s to 100 TB/s; "
            "did you mean 3.35TB/s?",
        ),
        (
            "bandwidth_bytes_per_s",
            900,  # 900 GB/s is typical, 900 TB/s out of range
            "bandwidth_bytes_per_s = 900 B/s is outside the plausible range 1 GB/s to 100 TB/s; "
            "did you mean 900GB/s?",
        ),
        (
            "bandwidth_bytes_per_s",
            1e-300,  # no prefix brings it into range: no hint
            "bandwidth_bytes_per_s = 1e-300 B/s is outside the plausible range 1 GB/s to 100 TB/s",
        ),
        (
            "memory_bytes",
            2e15,
            "memory_bytes = 2e+15 B is outside the plausible range 1 MB to 100 TB",
        ),
        ("compute_efficiency", 1e300, "compute_efficiency must be in (0, 1], got 1e+300"),
        ("bandwidth_efficiency", 0.0, "bandwidth_efficiency must be in (0, 1], got 0.0"),
    ],
)
def test_device_quantities_outside_their_range(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError) as info:
        hardware(**{field: value})
    assert str(info.value) == message


def test_a_peak_without_its_prefix_suggests_tera() -> None:
    with pytest.raises(ValueError) as info:
        hardware(peak_flops_per_s={"bf16": 989})
    assert str(info.value) == (
        "peak_flops_per_s.bf16 = 989 FLOP/s is outside the plausible range 1 GFLOP/s to "
        "100 PFLOP/s; did you mean 989TFLOP/s?"
    )


def test_the_ends_of_a_range_are_inside() -> None:
    hw = hardware(bandwidth_bytes_per_s=1e9, memory_bytes=1e14, peak_flops_per_s={"bf16": 1e17})
    assert hw.bandwidth_bytes_per_s == 1e9 and hw.memory_bytes == 1e14
    assert model(num_layers=10_000).num_layers == 10_000
    with pytest.raises(ValueError, match="num_layers = 10001 is outside the plausible range"):
        model(num_layers=10_001)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": 10**400}, "hidden_size = an integer of about 401 digits is outside"),
        (
            {"num_layers": 10**9},
            "num_layers = 1000000000 is outside the plausible range 1 to 10,000",
        ),
        ({"vocab_size": 2**24 + 1}, "vocab_size = 16777217 is outside the plausible range"),
        ({"intermediate_size": 0}, "intermediate_size = 0 is outside the plausible range 1 to"),
    ],
)
def test_model_counts_outside_their_range(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        model(**change)
    assert str(info.value).startswith(message)


def test_moe_with_too_many_experts_is_refused_before_any_arithmetic() -> None:
    # 10^17 experts made 1 - k/E round to 1 (a division by zero downstream).
    with pytest.raises(ValueError) as info:
        MoE(10**17, 2, 64)
    assert str(info.value) == (
        "moe.num_experts = 100000000000000000 is outside the plausible range 1 to 65,536"
    )


def test_workload_lengths_and_batch() -> None:
    with pytest.raises(ValueError) as info:
        Workload(output_len=10**308)
    assert str(info.value) == (
        "output_len = an integer of about 309 digits is outside the plausible range 0 to "
        "100,000,000"
    )
    with pytest.raises(ValueError, match=r"^batch_size = 10000001 is outside .* 1 to 10,000,000$"):
        Workload(batch_size=10**7 + 1)


# ---- types and normalization -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: model(num_layers=32.5), ValueError, "num_layers must be a whole number, got 32.5"),
        (lambda: model(num_layers=True), TypeError, "num_layers must be a whole number, got True"),
        (lambda: model(moe="yes"), TypeError, "moe must be a MoE or None, got 'yes' (str)"),
        (lambda: model(mla=1), TypeError, "mla must be an MLA or None, got 1 (int)"),
        (
            lambda: model(sliding_window=4, sliding_window_layers=None),
            TypeError,
            "sliding_window_layers must be a tuple of layer indices, got None (NoneType)",
        ),
        (
            lambda: model(sliding_window=4, sliding_window_layers=(0, 5)),
            ValueError,
            "sliding_window_layers contains 5, but the model has 2 layers",
        ),
        (lambda: model(name=None), TypeError, "name must be a string, got None (NoneType)"),
        (
            lambda: hardware(efficiency_table="fast"),
            TypeError,
            "efficiency_table must be a dict (a measured profile's table) or None, got 'fast' (str)",
        ),
        (
            lambda: hardware(peak_flops_per_s=None),
            TypeError,
            "peak_flops_per_s must map compute dtypes to FLOP/s, got None (NoneType)",
        ),
        (
            lambda: hardware(bandwidth_bytes_per_s="3.35 TB/s"),
            TypeError,
            "bandwidth_bytes_per_s must be a number, got '3.35 TB/s' (str)",
        ),
        (lambda: Workload(batch_size="8"), TypeError, "batch_size must be a whole number, got '8'"),
        (lambda: Layout(tensor=2.5), ValueError, "tensor must be a whole number, got 2.5"),
        (lambda: MLA(512, 128, 64, 1.5), ValueError, "mla.v_head_dim must be a whole number"),
    ],
)
def test_types_are_checked_naming_the_parameter(make: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert str(info.value).startswith(message)


def test_integers_are_normalized() -> None:
    m = model(num_layers=32.0, hidden_size=64.0, sliding_window=8, sliding_window_layers=[3, 1, 3])
    assert type(m.num_layers) is int and m.num_layers == 32
    assert m.sliding_window_layers == (1, 3)  # a sorted tuple of distinct indices
    assert list(range(m.num_layers))[-1] == 31  # 32.0 once failed inside range()
    w = Workload(batch_size=8.0, prompt_len=1024.0)
    assert (type(w.batch_size), type(w.prompt_len)) == (int, int)
    hw = hardware(memory_bytes=80 * 10**9)
    assert type(hw.memory_bytes) is float and hw.memory_bytes == 8e10
    assert Layout(tensor=4.0).tensor == 4


def test_integer_checker_refuses_what_float_arithmetic_cannot_hold() -> None:
    with pytest.raises(ValueError) as info:
        integer("d_model", 10**400, minimum=1)
    assert str(info.value) == (
        "d_model must be at most 9,007,199,254,740,992 (2^53), got an integer of about 401 digits"
    )


def test_analysis_arguments_name_the_parameter() -> None:
    m, hw, w = model(), hardware(), Workload()
    check_analysis_arguments(m, hw, w, None)
    cases = [
        (("llama-3.1-8b", hw, w), "model must be a Model"),
        ((m, "h100", w), "hardware must be a Hardware"),
        (
            (m, hw, None),
            "workload must be a Workload (Workload() is the default workload), got None",
        ),
    ]
    for args, message in cases:
        with pytest.raises(TypeError) as info:
            check_analysis_arguments(*args)
        assert str(info.value).startswith(message)
    with pytest.raises(TypeError, match="layout must be a Layout or None"):
        check_analysis_arguments(m, hw, w, {"tensor": 2})
