"""Files a user points at: nesting limited before parsing, the Hugging Face cache kept
inside itself, paths with commas, and no user path embedded in a report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from llm_roofline import Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware, load_hardware_file
from llm_roofline.catalog.hf_config import find_in_hub_cache, load_hf_config, model_from_hf_dict
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main
from llm_roofline.inputs.documents import MAX_NESTING, json_nesting, load_json, toml_nesting

PRESET = (
    Path(__file__).parents[1]
    / "src/llm_roofline/catalog/data/models/meta-llama/Llama-3.2-1B/config.json"
)
DEVICE = {
    "name": "My GPU",
    "peak_flops_per_s": {"bf16": "312T"},
    "bandwidth_bytes_per_s": "2 TB/s",
    "memory_bytes": "80GB",
}
DEEP = 100_000


def too_deep(origin: str, depth: int) -> str:
    return (
        f"{origin}: nested {depth:,} levels deep; at most {MAX_NESTING} are accepted (no config, "
        "device file or report nests more than a few)"
    )


# ---- nesting --------------------------------------------------------------------------


def test_nesting_is_measured_outside_strings() -> None:
    assert json_nesting('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert toml_nesting('x = [[1], [2]]\n[a.b.c]\nkey = "d.e.f.g.h" # i.j.k.l.m\n') == 3
    assert toml_nesting("v = 1.5e3\n") == 2  # a float reads as a two-part key: harmless


def test_deep_json_config_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": ' + "[" * DEEP + "]" * DEEP + "}")
    with pytest.raises(ValueError) as info:
        load_hf_config(path)
    assert str(info.value) == too_deep(str(path), DEEP + 1)


@pytest.mark.parametrize(
    ("suffix", "text", "depth"),
    [
        (".json", '{"name": ' + "{" * DEEP + "}" * DEEP + "}", DEEP + 1),
        (".toml", "x = " + "[" * DEEP + "]" * DEEP, DEEP),
        (".toml", "x = " + "{a = " * DEEP + "1" + "}" * DEEP, DEEP),
        (".toml", "a" + ".a" * DEEP + " = 1", DEEP + 1),  # dotted keys: quadratic in tomllib
        (".toml", "[" + "a." * DEEP + "a]\nx = 1", DEEP + 1),
    ],
)
def test_deep_device_files_are_refused_before_parsing(
    tmp_path: Path, suffix: str, text: str, depth: int
) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_hardware_file(path)
    assert str(info.value) == too_deep(str(path), depth)


def test_a_4301_digit_integer_is_bad_json_not_a_crash() -> None:
    with pytest.raises(ValueError) as info:
        load_json('{"hidden_size": ' + "9" * 5000 + "}", "c.json")
    assert str(info.value).startswith("c.json: invalid JSON: Exceeds the limit (4300 digits)")


def test_cli_reports_a_deep_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * DEEP + "]" * DEEP)
    assert main(["analyze", "--hardware", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"llm-roofline: error: --hardware {str(path)!r}: {too_deep(str(path), DEEP)}\n"


# ---- config fields of the wrong type ------------------------------------------------------


@pytest.mark.parametrize("model_type", [["llama"], {"a": 1}, 7])
def test_model_type_of_the_wrong_type_names_the_field(model_type: Any) -> None:
    with pytest.raises(ValueError) as info:
        model_from_hf_dict({"model_type": model_type}, "x", "c.json")
    assert str(info.value).startswith(
        f"c.json: field 'model_type' = {model_type!r} is not supported"
    )


def test_a_billion_layers_is_refused_while_reading_the_config() -> None:
    config = json.loads(PRESET.read_text()) | {"num_hidden_layers": 10**9}
    with pytest.raises(ValueError) as info:
        model_from_hf_dict(config, "x", "c.json")
    assert str(info.value) == (
        "c.json: field 'num_hidden_layers' = 1000000000 is outside the plausible range 1 to 10,000"
    )


def test_get_model_of_none_names_what_it_takes() -> None:
    with pytest.raises(TypeError) as info:
        get_model(None)  # type: ignore[arg-type]
    assert str(info.value) == (
        "model must be a preset name, a config path or a repository id, got None (NoneType)"
    )


# ---- the Hugging Face cache ------------------------------------------------------------


def snapshot(cache: Path, revision: str) -> Path:
    folder = cache / "models--acme--Tiny" / "snapshots" / revision
    folder.mkdir(parents=True)
    shutil.copy(PRESET, folder / "config.json")
    return folder / "config.json"


def test_a_ref_that_leaves_the_cache_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    snapshot(cache, "abc")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(PRESET, outside / "config.json")
    refs = cache / "models--acme--Tiny" / "refs"
    refs.mkdir()
    (refs / "main").write_text("../../../elsewhere\n")
    with pytest.raises(ValueError) as info:
        find_in_hub_cache("acme/Tiny", cache)
    assert str(info.value) == (
        f"{refs / 'main'}: names the snapshot '../../../elsewhere', which is not a revision "
        f"inside {cache / 'models--acme--Tiny' / 'snapshots'}; refusing to follow it"
    )
    (refs / "main").write_text("abc\n")
    assert (
        find_in_hub_cache("acme/Tiny", cache)
        == cache / "models--acme--Tiny/snapshots/abc/config.json"
    )


def test_a_snapshot_linked_outside_the_cache_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(PRESET, outside / "config.json")
    snapshots = cache / "models--acme--Tiny" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="leads outside"):
        find_in_hub_cache("acme/Tiny", cache)
    good = snapshot(cache, "good")  # a snapshot inside is still found, the other skipped
    assert find_in_hub_cache("acme/Tiny", cache) == good


# ---- paths with commas, and no user path in reports -------------------------------------


def test_a_folder_with_a_comma_is_one_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "llama,1b"
    folder.mkdir()
    shutil.copy(PRESET, folder / "config.json")
    assert main(["analyze", "--model", str(folder), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["name"] == "llama,1b"
    assert main(["compare", "--model", str(folder), "--format", "json"]) == 0  # a list flag
    (column,) = json.loads(capsys.readouterr().out)
    assert column["report"]["model"]["name"] == "llama,1b"
    assert main(["compare", "--model", f"{folder},gpt2", "--format", "json"]) == 2  # not a path
    assert main(["analyze", "--model", "gpt2,llama-3.2-1b"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (
        "llm-roofline: error: --model takes one model here, got 'gpt2,llama-3.2-1b' "
        "(`llm-roofline compare` takes a list)"
    )


def test_reports_name_user_files_without_their_path(tmp_path: Path) -> None:
    folder = tmp_path / "private" / "my-model"
    folder.mkdir(parents=True)
    shutil.copy(PRESET, folder / "config.json")
    device = tmp_path / "private" / "gpu.json"
    device.write_text(json.dumps(DEVICE))
    m, hw = load_hf_config(folder), load_hardware_file(device)
    assert (m.source, hw.source) == ("user config my-model/config.json", "user file gpu.json")
    text = analyze(m, hw, Workload()).to_json()
    assert str(tmp_path) not in text and "private" not in text
    preset = analyze(get_model("gpt2"), get_hardware("h100-sxm"), Workload()).to_json()
    assert "/work/" not in preset and "site-packages" not in preset
