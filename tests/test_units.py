"""units: the one place human units are parsed and formatted (GB = 1e9, GiB = 2^30)."""

from __future__ import annotations

import pytest

from llm_roofline.inputs import units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.35 TB/s", 3.35e12),
        ("3350GB/s", 3.35e12),
        ("3350 GBps", 3.35e12),
        ("2765 GBps", 2.765e12),
        ("900 GiB/s", 900 * 2**30),
        ("1.5 TiB/s", 1.5 * 2**40),
        ("4800 Gbps", 600e9),  # Google's ICI figure is in bits
        ("400 Gbit/s", 50e9),
        ("3.35e12", 3.35e12),
        ("819 B/s", 819.0),
        (3.35e12, 3.35e12),
        (900, 900.0),
    ],
)
def test_parse_bytes_per_s(text: object, expected: float) -> None:
    assert units.parse_bytes_per_s("bandwidth", text) == pytest.approx(expected, rel=1e-12)


def test_gb_is_decimal_and_gib_binary() -> None:
    assert units.parse_bytes("memory", "80GB") == 80e9
    assert units.parse_bytes("memory", "80 GiB") == 80 * 2**30
    assert units.parse_bytes("memory", "192 GB") == 192e9
    assert units.parse_bytes("memory", "8e10") == 8e10
    assert units.parse_bytes("memory", "24G") == 24e9
    assert units.parse_bytes("memory", "512 kB") == 512e3
    assert units.parse_bytes("memory", "1 bytes") == 1.0
    assert units.parse_bytes("memory", 80e9) == 80e9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("989.4 TFLOP/s", 989.4e12),
        ("989.4T", 989.4e12),
        ("989.4 TFLOPS", 989.4e12),
        ("989.4 tflops", 989.4e12),
        ("312e12", 312e12),
        ("1979 TOPS", 1979e12),
        ("2.5 PFLOP/s", 2.5e15),
        ("90 GFLOP/s", 90e9),
        (312e12, 312e12),
    ],
)
def test_parse_flops_per_s(text: object, expected: float) -> None:
    assert units.parse_flops_per_s("peak", text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad", ["3.35 tb/s", "80 gb", "12 Gb/s"])
def test_lowercase_b_is_rejected_as_ambiguous(bad: str) -> None:
    with pytest.raises(ValueError, match="lowercase 'b' is ambiguous"):
        units.parse_bytes_per_s("bandwidth_bytes_per_s", bad)


@pytest.mark.parametrize("bad", ["fast", "3.35 TB/h", "1 XB", "", "TB/s", "1.2.3 GB/s"])
def test_unreadable_text_names_field_and_value(bad: str) -> None:
    with pytest.raises(ValueError) as error:
        units.parse_bytes_per_s("bandwidth_bytes_per_s", bad)
    assert "bandwidth_bytes_per_s" in str(error.value)
    assert repr(bad) in str(error.value)


@pytest.mark.parametrize("bad", [0, -1, "-5 TB/s", "0 GB/s", float("nan"), float("inf")])
def test_non_positive_or_non_finite_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="bandwidth_bytes_per_s must be a finite number > 0"):
        units.parse_bytes_per_s("bandwidth_bytes_per_s", bad)


@pytest.mark.parametrize("bad", [True, None, [1], {"a": 1}])
def test_wrong_types_rejected_with_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match=r"peak_flops_per_s\.bf16"):
        units.parse_flops_per_s("peak_flops_per_s.bf16", bad)


def test_memory_units_not_accepted_as_flops() -> None:
    with pytest.raises(ValueError, match="FLOP/s"):
        units.parse_flops_per_s("peak", "80 GB")


def test_format_quantities() -> None:
    assert units.format_flops(989.4e12) == "989.4 TFLOP"
    assert units.format_flops_per_s(989.4e12) == "989.4 TFLOP/s"
    assert units.format_bytes(13.5e9) == "13.5 GB"
    assert units.format_bytes(80e9) == "80.0 GB"
    assert units.format_bytes_per_s(3.35e12) == "3.35 TB/s"
    assert units.format_flops(2.5e15) == "2.50 PFLOP"
    assert units.format_flops(0) == "0 FLOP"
    assert units.format_bytes(512) == "512.0 B"


def test_format_rounding_carries_to_next_prefix() -> None:
    assert units.format_flops(999.96e12) == "1.00 PFLOP"


def test_format_seconds() -> None:
    assert units.format_seconds(1.2) == "1.20 s"
    assert units.format_seconds(0.0123) == "12.3 ms"
    assert units.format_seconds(850e-6) == "850 µs"
    assert units.format_seconds(3.2e-9) == "3.20 ns"
    assert units.format_seconds(0.0009996) == "1.00 ms"
    assert units.format_seconds(3600) == "3600 s"
    assert units.format_seconds(0) == "0 s"


def test_parse_format_round_trip() -> None:
    for value in (3.35e12, 1.555e12, 900e9, 48e9):
        assert units.parse_bytes_per_s("bw", units.format_bytes_per_s(value)) == pytest.approx(
            value, rel=5e-3
        )
