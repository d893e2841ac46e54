"""Hardware presets, name matching, users' device files and overrides.

The trap tests hold hand-copied datasheet values, so a preset edit that reintroduces a
sparse figure, a mixed-up A100 bandwidth or a GeForce FP16-accumulate rate fails here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from llm_roofline.catalog import hardware_catalog as hc
from llm_roofline.inputs.dtypes import COMPUTE_DTYPES
from llm_roofline.inputs.hardware import Hardware

DOCS = Path(__file__).resolve().parents[1] / "docs" / "HARDWARE.md"
IDS = hc.preset_ids()


# ---------------------------------------------------------------- every preset
def test_catalog_has_the_promised_devices() -> None:
    assert len(IDS) >= 30
    for required in (
        "v100-sxm2", "t4", "a10g", "a100-sxm-40gb", "a100-sxm-80gb", "a100-pcie-40gb",
        "a100-pcie-80gb", "l4", "l40s", "h100-sxm", "h100-pcie", "h100-nvl", "h200", "h20",
        "b200", "gb200", "rtx-3090", "rtx-4090", "rtx-5090", "mi250x", "mi300x", "mi325x",
        "mi355x", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e", "gaudi2", "gaudi3", "m2-ultra",
        "m3-max", "m4-max",
    ):  # fmt: skip
        assert required in IDS


@pytest.mark.parametrize("preset_id", IDS)
def test_preset_invariants(preset_id: str) -> None:
    hw = hc.get_hardware(preset_id)
    peaks = hw.peak_flops_per_s
    assert hw.id == preset_id and hw.vendor and hw.name
    assert set(peaks) <= set(COMPUTE_DTYPES)
    half = hw.peak_for("bf16")  # bf16, or fp16 where only fp16 is listed
    if "fp8" in peaks:
        assert half <= peaks["fp8"]
    if "fp4" in peaks:
        assert peaks.get("fp8", half) <= peaks["fp4"]
    for narrower_or_equal in ("fp32", "tf32"):
        if narrower_or_equal in peaks:
            assert peaks[narrower_or_equal] <= half
    assert 50e9 <= hw.bandwidth_bytes_per_s <= 10e12
    assert 8e9 <= hw.memory_bytes <= 512e9
    for dtype in peaks:
        assert 1 <= hw.ridge_point(dtype) <= 2000, (dtype, hw.ridge_point(dtype))
    if hw.interconnect_bytes_per_s is not None:
        # Every scale-up link is slower than the device's own memory.
        assert hw.interconnect_bytes_per_s < hw.bandwidth_bytes_per_s


@pytest.mark.parametrize("preset_id", IDS)
def test_every_number_has_a_source(preset_id: str) -> None:
    record = hc.hardware_record(preset_id)
    assert set(record["sources"]) == {*hc.SOURCE_FIELDS, *hc.EFFICIENCY_FIELDS}
    assert all(len(text) > 20 for text in record["sources"].values())
    assert "direction" in record["sources"]["interconnect_bytes_per_s"] or (
        record["interconnect_bytes_per_s"] is None
    )
    hw = hc.get_hardware(preset_id)
    for field in hc.SOURCE_FIELDS:
        assert f"{field}: " in hw.source


@pytest.mark.parametrize("preset_id", IDS)
def test_every_spelling_resolves_to_its_own_preset(preset_id: str) -> None:
    record = hc.hardware_record(preset_id)
    for spelling in (preset_id, record["name"], *record["aliases"]):
        assert hc.get_hardware(spelling).id == preset_id
        assert hc.get_hardware(spelling.upper().replace("-", " ")).id == preset_id


def test_docs_table_lists_every_preset() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for preset_id in IDS:
        assert f"`{preset_id}`" in text


# ---------------------------------------------------------------- named traps
def test_nvidia_headline_sparse_figures_are_halved() -> None:
    h100 = hc.get_hardware("h100-sxm")
    assert h100.peak_flops_per_s["bf16"] == 989.4e12  # not the sparse 1979e12
    assert h100.peak_flops_per_s["fp8"] == 1978.9e12  # not the sparse 3958e12
    assert hc.get_hardware("h200").peak_flops_per_s["bf16"] == 989.4e12
    assert hc.get_hardware("a100-sxm-80gb").peak_flops_per_s["bf16"] == 312e12  # not 624
    assert hc.get_hardware("l4").peak_flops_per_s["bf16"] == 121e12  # not 242
    assert hc.get_hardware("l40s").peak_flops_per_s["bf16"] == 362.05e12  # not 733
    assert hc.get_hardware("b200").peak_flops_per_s["bf16"] == 2.25e15  # not 4.5e15
    assert hc.get_hardware("b200").peak_flops_per_s["fp4"] == 9e15  # not 18e15
    assert hc.get_hardware("gb200").peak_flops_per_s["fp4"] == 10e15  # not 20e15
    assert hc.get_hardware("mi300x").peak_flops_per_s["bf16"] == 1307.4e12  # not 2614.9


def test_a100_bandwidth_depends_on_memory_size_and_form_factor() -> None:
    assert hc.get_hardware("a100-sxm-40gb").bandwidth_bytes_per_s == 1.555e12
    assert hc.get_hardware("a100-sxm-80gb").bandwidth_bytes_per_s == 2.039e12
    assert hc.get_hardware("a100-pcie-40gb").bandwidth_bytes_per_s == 1.555e12
    assert hc.get_hardware("a100-pcie-80gb").bandwidth_bytes_per_s == 1.935e12
    assert hc.get_hardware("a100-sxm-40gb").memory_bytes == 40e9


def test_geforce_bf16_is_the_fp32_accumulate_rate() -> None:
    # Ada whitepaper, RTX 4090 dense: FP16-acc 330.3, FP32-acc 165.2; 82.6 is FP32/TF32.
    rtx4090 = hc.get_hardware("rtx-4090")
    assert rtx4090.peak_flops_per_s["bf16"] == 165.2e12
    assert rtx4090.peak_flops_per_s["fp16"] == 165.2e12
    assert rtx4090.peak_flops_per_s["fp8"] == 330.3e12
    assert rtx4090.peak_flops_per_s["fp32"] == 82.6e12
    assert hc.get_hardware("rtx-3090").peak_flops_per_s["fp16"] == 71e12  # not 142
    assert hc.get_hardware("rtx-5090").peak_flops_per_s["bf16"] == 209.5e12  # not 419


def test_h100_pcie_is_not_an_h100_sxm() -> None:
    sxm, pcie = hc.get_hardware("h100-sxm"), hc.get_hardware("h100-pcie")
    assert pcie.peak_flops_per_s["bf16"] == 756.5e12
    assert pcie.bandwidth_bytes_per_s == 2.0e12
    assert sxm.bandwidth_bytes_per_s == 3.35e12
    assert pcie.interconnect_bytes_per_s == 64e9  # PCIe 5.0 x16 each way, no NVSwitch


def test_mi250x_figures_cover_both_gcds() -> None:
    mi250x = hc.get_hardware("mi250x")
    assert mi250x.peak_flops_per_s["bf16"] == 383e12
    assert mi250x.memory_bytes == 128e9
    assert mi250x.bandwidth_bytes_per_s == 3.2768e12


def test_interconnect_is_per_direction() -> None:
    assert hc.get_hardware("h100-sxm").interconnect_bytes_per_s == 450e9  # 900 both ways
    assert hc.get_hardware("b200").interconnect_bytes_per_s == 900e9  # 1.8 TB/s both ways
    assert hc.get_hardware("a100-sxm-80gb").interconnect_bytes_per_s == 300e9
    assert hc.get_hardware("tpu-v5e").interconnect_bytes_per_s == 200e9
    assert hc.get_hardware("m2-ultra").interconnect_bytes_per_s is None


def test_vendor_binary_capacities_stay_binary() -> None:
    assert hc.get_hardware("tpu-v4").memory_bytes == 32 * 2**30  # Google: "32 GiB"


# ---------------------------------------------------------------- matching
@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("h100", "h100-sxm"),
        ("H100 SXM5", "h100-sxm"),
        ("NVIDIA H100 SXM5 80GB", "h100-sxm"),
        ("nvidia_h100_sxm", "h100-sxm"),
        ("  H100-PCIe ", "h100-pcie"),
        ("A100-80GB", "a100-sxm-80gb"),
        ("a100", "a100-sxm-80gb"),
        ("A100 40GB", "a100-sxm-40gb"),
        ("4090", "rtx-4090"),
        ("RTX 4090", "rtx-4090"),
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("tpu_v5e", "tpu-v5e"),
        ("Trillium", "tpu-v6e"),
        ("Gaudi 3", "gaudi3"),
        ("Intel Gaudi2", "gaudi2"),
        ("AMD Instinct MI300X", "mi300x"),
        ("M2 Ultra", "m2-ultra"),
    ],
)
def test_forgiving_spellings(spelling: str, expected: str) -> None:
    assert hc.get_hardware(spelling).id == expected


@pytest.mark.parametrize(
    ("spelling", "close"), [("h1000", "h100-sxm"), ("rtx 4080", "rtx-4090"), ("mi400x", "mi300x")]
)
def test_unknown_name_lists_close_ids(spelling: str, close: str) -> None:
    with pytest.raises(ValueError, match="unknown hardware") as error:
        hc.get_hardware(spelling)
    message = str(error.value)
    assert "closest:" in message and close in message.split("Known ids")[0]


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_blank_or_non_string_name(bad: Any) -> None:
    with pytest.raises(ValueError, match="hardware name"):
        hc.get_hardware(bad)


def test_filtering_ids() -> None:
    assert hc.preset_ids("h100") == ["h100-nvl", "h100-pcie", "h100-sxm"]
    assert hc.preset_ids("AMD") == ["mi250x", "mi300x", "mi325x", "mi355x"]
    assert hc.preset_ids("tpu") == ["tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e"]
    assert hc.preset_ids("no such thing") == []
    assert [hw.id for hw in hc.list_hardware("gaudi")] == ["gaudi2", "gaudi3"]
    assert hc.preset_ids() == sorted(hc.preset_ids())


# ---------------------------------------------------------------- caching
def test_returned_objects_do_not_share_mutable_state() -> None:
    hw = hc.get_hardware("h100")
    hw.peak_flops_per_s["bf16"] = 1.0
    assert hc.get_hardware("h100").peak_flops_per_s["bf16"] == 989.4e12
    record = hc.hardware_record("h100")
    record["sources"].clear()
    assert hc.hardware_record("h100")["sources"]


def test_presets_load_once_and_fast() -> None:
    hc._catalog.cache_clear()
    start = time.perf_counter()
    hc.list_hardware()
    assert time.perf_counter() - start < 1.0
    assert hc._catalog() is hc._catalog()


# ---------------------------------------------------------------- bad presets
GOOD_PRESET: dict[str, Any] = hc.hardware_record("h100-sxm")


def _load_presets(monkeypatch: pytest.MonkeyPatch, files: list[tuple[str, str]]) -> None:
    monkeypatch.setattr(hc, "_preset_files", lambda: files)
    hc._catalog.cache_clear()
    try:
        hc._catalog()
    finally:
        monkeypatch.undo()
        hc._catalog.cache_clear()


def _preset(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(json.dumps(GOOD_PRESET))
    for key, value in changes.items():
        if value is None and key != "interconnect_bytes_per_s":
            del record[key]
        else:
            record[key] = value
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_preset(sources=None), "missing key 'sources'"),
        (_preset(tdp_w=700), "unknown key 'tdp_w'"),
        (_preset(bandwidth_bytes_per_s="3.35 TB/s"), "must be a number in SI units"),
        (_preset(memory_bytes=0), "memory_bytes must be > 0"),
        (_preset(peak_flops_per_s={"bfloat16": 1e15}), "unknown dtype 'bfloat16'"),
        (_preset(sources={"peak_flops_per_s": "x" * 30}), "missing key 'bandwidth_bytes_per_s'"),
        (_preset(id="H100"), "must be lowercase-with-dashes and match the file name"),
        (_preset(aliases="h100"), "aliases must be a list"),
        (_preset(vendor=""), "vendor must be a non-empty string"),
    ],
)
def test_malformed_preset_is_rejected(
    monkeypatch: pytest.MonkeyPatch, record: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=r"hardware preset h100-sxm\.json") as error:
        _load_presets(monkeypatch, [("h100-sxm.json", json.dumps(record))])
    assert message in str(error.value)


def test_alias_shared_by_two_presets_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    other = _preset(id="h100-copy", name="Copy", aliases=["h100"])
    files = [("h100-copy.json", json.dumps(other)), ("h100-sxm.json", json.dumps(GOOD_PRESET))]
    with pytest.raises(ValueError, match="also names preset 'h100-copy'"):
        _load_presets(monkeypatch, files)


# ---------------------------------------------------------------- user files
USER_TOML = """
name = "My accelerator"
vendor = "Acme"
bandwidth_bytes_per_s = "1.2 TB/s"
memory_bytes = "48 GiB"
interconnect_bytes_per_s = "400 Gbit/s"
compute_efficiency = 0.6
notes = "engineering sample"

[peak_flops_per_s]
bfloat16 = "300 TFLOP/s"
fp8 = "600T"
fp32 = 7.5e13
"""


def test_toml_user_file_with_human_units(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(USER_TOML)
    hw = hc.load_hardware_file(path)
    assert hw.name == "My accelerator" and hw.vendor == "Acme"
    assert hw.peak_flops_per_s == {"bf16": 300e12, "fp8": 600e12, "fp32": 75e12}
    assert hw.bandwidth_bytes_per_s == 1.2e12
    assert hw.memory_bytes == 48 * 2**30
    assert hw.interconnect_bytes_per_s == 50e9
    assert hw.compute_efficiency == 0.6
    assert hw.source == "user file acme.toml"  # the name, not the user's path


def test_minimal_json_user_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps(
            {
                "name": "Tiny",
                "peak_flops_per_s": {"fp16": 1e14},
                "bandwidth_bytes_per_s": 5e11,
                "memory_bytes": "16GB",
                "source": "my lab notebook",
            }
        )
    )
    hw = hc.load_hardware_file(path)
    assert hw.source == "my lab notebook" and hw.interconnect_bytes_per_s is None
    assert hw.ridge_point("bf16") == 200.0


def test_measured_profile_file_is_accepted(tmp_path: Path) -> None:
    profile = {
        "kind": hc.PROFILE_KIND,
        "machine": {"hostname": "node1", "gpu": "NVIDIA H100 80GB HBM3"},
        "name": "H100 SXM (measured)",
        "peak_flops_per_s": {"bf16": 7.5e14},
        "bandwidth_bytes_per_s": 2.9e12,
        "memory_bytes": 8e10,
        "efficiency_table": {"gemm": {"bf16": [[1024, 0.5]]}},
        "bandwidth_efficiency": 0.85,
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    hw = hc.load_hardware_file(path)
    assert hw.efficiency_table == profile["efficiency_table"]
    assert hw.bandwidth_efficiency == 0.85


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


BASE: dict[str, Any] = {
    "name": "X",
    "peak_flops_per_s": {"bf16": "100T"},
    "bandwidth_bytes_per_s": "1 TB/s",
    "memory_bytes": "24GB",
}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.json", '{"name": "X",', "invalid JSON at line 1"),
        ("bad.toml", "name = ", "invalid TOML"),
        ("list.json", [1, 2], "must contain an object"),
        ("dup.json", '{"name": "X", "name": "Y"}', "key 'name' appears twice"),
        ("miss.json", {k: v for k, v in BASE.items() if k != "memory_bytes"}, "missing key 'memory_bytes'"),
        ("typo.json", {**BASE, "bandwith_bytes_per_s": 1}, "unknown key 'bandwith_bytes_per_s'"),
        ("neg.json", {**BASE, "memory_bytes": -1}, "memory_bytes must be a finite number > 0"),
        ("zero.json", {**BASE, "bandwidth_bytes_per_s": "0 GB/s"}, "must be a finite number > 0"),
        ("unit.json", {**BASE, "bandwidth_bytes_per_s": "1 tb/s"}, "lowercase 'b' is ambiguous"),
        ("dtype.json", {**BASE, "peak_flops_per_s": {"fp6": "1P"}}, "unknown dtype"),
        ("twice.json", {**BASE, "peak_flops_per_s": {"bf16": 1e14, "bfloat16": 1e14}}, "given twice"),
        ("empty.json", {**BASE, "peak_flops_per_s": {}}, "peak_flops_per_s must map dtypes"),
        ("kind.json", {**BASE, "kind": "something/else"}, "kind must be"),
        ("eff.json", {**BASE, "compute_efficiency": 1.5}, "compute_efficiency must be in (0, 1]"),
        ("efftype.json", {**BASE, "bandwidth_efficiency": "high"}, "bandwidth_efficiency must be a number"),
        ("table.json", {**BASE, "efficiency_table": [1]}, "efficiency_table must be"),
        ("src.json", {**BASE, "sources": {"tdp": "x"}}, "unknown key 'tdp'"),
        ("name.json", {**BASE, "name": ""}, "name must be a non-empty string"),
    ],
)  # fmt: skip
def test_malformed_user_file_names_file_and_problem(
    tmp_path: Path, name: str, data: Any, message: str
) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(ValueError) as error:
        hc.load_hardware_file(path)
    assert str(error.value).startswith(f"{path}: ")  # named once, at the start
    assert str(error.value).count(str(path)) == 1
    assert message in str(error.value)


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        hc.load_hardware_file(tmp_path / "nope.json")
    with pytest.raises(ValueError, match=r"must end in \.json or \.toml"):
        hc.load_hardware_file(_write(tmp_path, "gpu.yaml", "name: X"))


# ---------------------------------------------------------------- resolve and override
def test_resolve_preset_name_or_file(tmp_path: Path) -> None:
    assert hc.resolve_hardware("H100 SXM5").id == "h100-sxm"
    path = _write(tmp_path, "x.json", BASE)
    assert hc.resolve_hardware(str(path)).name == "X"
    assert hc.resolve_hardware(path).name == "X"
    hw = hc.get_hardware("l4")
    assert hc.resolve_hardware(hw) is hw
    with pytest.raises(ValueError, match="does not exist"):
        hc.resolve_hardware(str(tmp_path / "missing.toml"))


def test_overrides_return_a_new_hardware() -> None:
    hw = hc.resolve_hardware(
        "a100",
        {
            "peak_flops_per_s": {"bfloat16": "280T", "fp8": 6e14},
            "bandwidth_bytes_per_s": "1.7 TB/s",
            "memory_bytes": "80 GiB",
            "interconnect_bytes_per_s": "300 GB/s",
            "compute_efficiency": 0.8,
        },
    )
    assert isinstance(hw, Hardware)
    assert hw.peak_flops_per_s["bf16"] == 280e12 and hw.peak_flops_per_s["fp8"] == 6e14
    assert hw.peak_flops_per_s["fp16"] == 312e12
    assert hw.bandwidth_bytes_per_s == 1.7e12 and hw.memory_bytes == 80 * 2**30
    assert hw.compute_efficiency == 0.8
    assert "User overrides" in hw.notes and "bandwidth_bytes_per_s=1.7 TB/s" in hw.notes
    assert hc.get_hardware("a100").bandwidth_bytes_per_s == 2.039e12  # preset untouched


def test_override_dataclass_and_cli_peak_parser() -> None:
    dtype, value = hc.parse_peak_assignment("BF16=989.4T")
    assert (dtype, value) == ("bf16", 989.4e12)
    overrides = hc.HardwareOverrides(peak_flops_per_s={dtype: value})
    assert hc.resolve_hardware("h100-pcie", overrides).peak_flops_per_s["bf16"] == 989.4e12
    for bad in ("bf16", "=1T", "fp6=1T", "bf16=fast"):
        with pytest.raises(ValueError):
            hc.parse_peak_assignment(bad)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bandwidth": "1 TB/s"}, "unknown hardware override 'bandwidth'"),
        ({"memory_bytes": "-1 GB"}, "memory_bytes must be a finite number > 0"),
        ({"peak_flops_per_s": {"fp6": "1P"}}, "peak override dtype must be one of"),
        ({"compute_efficiency": 2}, "compute_efficiency must be in (0, 1]"),
        ({"bandwidth_efficiency": "x"}, "bandwidth_efficiency must be a number"),
        ({"peak_flops_per_s": 5}, "peak overrides must map dtypes"),
    ],
)
def test_bad_overrides(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        hc.resolve_hardware("h100", overrides)
    assert message in str(error.value)


def test_a_device_from_parsed_data_checks_like_a_file() -> None:
    data = {"name": "Tiny", "peak_flops_per_s": {"bf16": "100T"}, "bandwidth_bytes_per_s": 5e11}
    with pytest.raises(ValueError, match=r"^upload: missing key 'memory_bytes'$"):
        hc.hardware_from_dict(data, origin="upload")
    hw = hc.hardware_from_dict({**data, "memory_bytes": "16GB"}, origin="upload")
    assert hw.peak_flops_per_s == {"bf16": 100e12} and hw.memory_bytes == 16e9
    assert hw.source == "user file upload"
    with pytest.raises(ValueError, match=r"^upload: unknown key 'path'"):
        hc.hardware_from_dict({**data, "memory_bytes": 1e9, "path": "/etc/x"}, origin="upload")
    with pytest.raises(ValueError, match="must contain an object"):
        hc.hardware_from_dict(["not", "an", "object"], origin="upload")
