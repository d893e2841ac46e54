"""Every preset analyzes exactly as pinned in tests/golden/single_device.json (t = p = e = 1).

The file was generated from the engine before it became one engine for any layout; it
changes only where a counting convention changes a number (tests/golden/make_golden.py).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from make_golden import OUT, golden

REL = 1e-9


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{where}: keys {sorted(set(expected) ^ set(actual))} differ"]
        return [d for k in expected for d in differences(expected[k], actual[k], f"{where}.{k}")]
    if (
        isinstance(expected, (list, tuple))
        and isinstance(actual, (list, tuple))
        and len(expected) == len(actual)
    ):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{where}[{i}]")
        ]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if isinstance(expected, bool) or isinstance(actual, bool):
            return [] if expected is actual else [f"{where}: {expected} != {actual}"]
        ok = math.isclose(expected, actual, rel_tol=REL, abs_tol=1e-12)
        return [] if ok else [f"{where}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return golden()


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8"))
    return data


def test_every_preset_and_workload_is_pinned(
    current: dict[str, Any], pinned: dict[str, Any]
) -> None:
    assert sorted(current) == sorted(pinned)


def test_numbers_equal_the_pinned_ones(current: dict[str, Any], pinned: dict[str, Any]) -> None:
    found = [d for key in pinned for d in differences(pinned[key], current[key], key)]
    assert not found, f"{len(found)} differences, first: " + "\n".join(found[:20])


def test_the_comparison_catches_a_change() -> None:
    assert differences({"a": 1.0}, {"a": 1.0 + 1e-6}) == [".a: 1.0 != 1.000001"]
    assert differences({"a": [1, 2]}, {"a": [1, 2]}) == []
    assert differences({"a": 1}, {"b": 1}) == [": keys ['a', 'b'] differ"]
