"""Built-in model presets: the index, published counts, name resolution and caching."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_roofline.catalog import model_catalog
from llm_roofline.catalog.model_catalog import (
    ModelEntry,
    find_entry,
    get_model,
    list_models,
    parse_index,
    preset_model,
)

DATA = Path(__file__).resolve().parents[1] / "src" / "llm_roofline" / "catalog" / "data" / "models"
ENTRIES = list_models()
IDS = [e.repo_id for e in ENTRIES]


def test_index_lists_every_shipped_config_and_nothing_else() -> None:
    on_disk = {str(p.parent.relative_to(DATA)) for p in DATA.glob("*/*/config.json")}
    assert on_disk == set(IDS) and len(IDS) == len(set(IDS)) >= 42


def test_package_data_glob_covers_the_presets() -> None:
    # pyproject's package-data glob is data/**/*.json: every preset file must end in .json.
    files = [p for p in DATA.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".json" for p in files)


@pytest.mark.parametrize("repo_id", IDS)
def test_preset_parameter_counts_equal_published(repo_id: str) -> None:
    entry = find_entry(repo_id)
    assert entry is not None
    model = get_model(repo_id)
    assert model.name == repo_id
    if entry.published_parameters is not None:
        assert model.parameter_count == entry.published_parameters
    if entry.active_parameters is not None:
        assert model.moe is not None
        assert model.active_parameter_count == entry.active_parameters
    else:
        assert model.active_parameter_count == model.parameter_count or model.moe is None


def test_published_counts_are_present_except_where_none_was_found() -> None:
    missing = {e.repo_id for e in ENTRIES if e.published_parameters is None}
    assert missing == {"facebook/opt-6.7b", "tiiuae/falcon-7b"}
    # Their counts are pinned to the independent formula results recorded with the data.
    assert get_model("opt-6.7b").parameter_count == 6_658_473_984
    assert get_model("falcon-7b").parameter_count == 6_921_720_704


def test_moe_active_counts() -> None:
    assert get_model("mixtral-8x7b").active_parameter_count == 12_879_925_248
    assert get_model("deepseek-v3").active_parameter_count == 37_552_297_472
    assert get_model("qwen3-30b-a3b").active_parameter_count == 3_353_032_704


@pytest.mark.parametrize(
    ("name", "repo_id"),
    [
        ("llama-3.1-8b", "meta-llama/Llama-3.1-8B"),
        ("Llama-3.1-8B", "meta-llama/Llama-3.1-8B"),
        ("llama3.1-8b", "meta-llama/Llama-3.1-8B"),
        ("META-LLAMA/llama-3.1-8b", "meta-llama/Llama-3.1-8B"),
        ("llama-2-7b", "meta-llama/Llama-2-7b-hf"),
        ("Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("mistral-7b", "mistralai/Mistral-7B-v0.1"),
        ("mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1"),
        ("Mixtral 8x7B", "mistralai/Mixtral-8x7B-v0.1"),
        ("qwen2.5-7b", "Qwen/Qwen2.5-7B"),
        ("gpt2", "openai-community/gpt2"),
        ("GPT2", "openai-community/gpt2"),
        ("deepseek-v3", "deepseek-ai/DeepSeek-V3"),
        ("deepseek_v3", "deepseek-ai/DeepSeek-V3"),
        ("gpt-oss-20b", "openai/gpt-oss-20b"),
        ("  phi-2 ", "microsoft/phi-2"),
    ],
)
def test_names_are_forgiving(name: str, repo_id: str) -> None:
    assert get_model(name).name == repo_id


def test_aliases_are_unique_and_short() -> None:
    aliases = [e.alias for e in ENTRIES]
    assert len(set(aliases)) == len(aliases)
    assert all(a == a.lower() and " " not in a for a in aliases)


def test_list_models_filter() -> None:
    assert len(list_models()) == len(list_models(None)) == len(list_models("")) >= 42
    llamas = list_models("LLAMA-3.1")
    assert {e.alias for e in llamas} == {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"}
    assert {e.repo_id for e in list_models("qwen3")} >= {"Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B"}
    assert list_models("no-such-model") == ()


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'llama-3.1-9b'.*Closest: .*llama-3.1-8b"):
        get_model("llama-3.1-9b")
    with pytest.raises(ValueError, match="model name must be a non-empty string"):
        get_model("  ")


def test_presets_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_model("llama-2-7b")

    def no_reads() -> Any:
        raise AssertionError("a cached preset must not touch the package data again")

    monkeypatch.setattr(model_catalog, "_data_dir", no_reads)
    assert get_model("Llama-2-7b-hf") is first
    assert preset_model("meta-llama/Llama-2-7b-hf") is first


def test_preset_source_names_the_file_and_its_provenance() -> None:
    model = get_model("gpt2")
    assert "data/models/openai-community/gpt2/config.json" in model.source
    assert model.source.endswith(
        "https://huggingface.co/openai-community/gpt2/blob/main/config.json"
    )


# ---- paths and the local cache ---------------------------------------------------------
def copy_config(repo_id: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "config.json"
    target.write_text((DATA / repo_id / "config.json").read_text())
    return target


def test_paths_to_a_file_or_folder(tmp_path: Path) -> None:
    path = copy_config("mistralai/Mistral-7B-v0.1", tmp_path / "my-mistral")
    assert get_model(str(path)).parameter_count == 7_241_732_096
    assert get_model(path.parent).name == "my-mistral"
    with pytest.raises(ValueError, match=r"missing\.json: no such file or directory"):
        get_model(str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="directory has no config"):
        get_model(str(tmp_path))


def test_repo_id_in_a_fake_hf_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    snapshot = tmp_path / "hf" / "hub" / "models--acme--Mistralish-7B" / "snapshots" / "r1"
    copy_config("mistralai/Mistral-7B-v0.1", snapshot)
    model = get_model("acme/Mistralish-7B")
    assert model.name == "acme/Mistralish-7B" and model.sliding_window == 4096
    with pytest.raises(ValueError, match=r"unknown model 'acme/Other'.*Hugging Face cache"):
        get_model("acme/Other")


# ---- the index is strictly validated -----------------------------------------------------
def raw_index() -> dict[str, Any]:
    index: dict[str, Any] = json.loads((DATA / "index.json").read_text())
    return index


def test_shipped_index_parses() -> None:
    entries = parse_index(raw_index())
    assert all(isinstance(e, ModelEntry) for e in entries)
    assert all(e.source.strip() and e.published_parameters_source.strip() for e in entries)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda i: i.update(extra=1), r"expected an object with exactly"),
        (lambda i: i.update(schema_version=2), r"schema_version must be 1"),
        (lambda i: i["models"][0].update(colour="red"), r"unknown keys \['colour'\]"),
        (lambda i: i["models"][0].pop("source"), r"missing keys \['source'\]"),
        (lambda i: i["models"][0].update(published_parameters=-5), r"published_parameters must be >= 1"),
        (lambda i: i["models"][0].update(config_verbatim="yes"), r"config_verbatim must be true or false"),
        (lambda i: i["models"][1].update(alias=i["models"][0]["alias"]), r"is ambiguous"),
        (lambda i: i["models"].append([]), r"every entry of 'models' must be an object"),
    ],
)  # fmt: skip
def test_bad_index_is_refused(mutate: Any, message: str) -> None:
    index = raw_index()
    mutate(index)
    with pytest.raises(ValueError, match=message):
        parse_index(index, "index.json")


def test_docs_table_matches_the_catalog() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "MODELS.md").read_text()
    for e in ENTRIES:
        count = get_model(e.repo_id).parameter_count
        assert f"| `{e.alias}` | {e.repo_id} | {count:,}" in docs, e.repo_id
