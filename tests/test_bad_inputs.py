"""The bad inputs of issue 13, one parametrized case each: every one gets exit 2 and one
line on stderr (the command line), or one TypeError/ValueError naming the field (the API)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llm_roofline import Hardware, Model, MoE, Report, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import main

PRESET = (
    Path(__file__).parents[1]
    / "src/llm_roofline/catalog/data/models/meta-llama/Llama-3.2-1B/config.json"
)
DEEP = 100_000


def config(tmp: Path, **change: Any) -> str:
    """A config.json (Llama-3.2-1B with ``change``) in a folder of its own; its path."""
    folder = tmp / "model"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(json.loads(PRESET.read_text()) | change))
    return str(folder)


def write(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text)
    return str(tmp / name)


def profile(tmp: Path, **change: Any) -> str:
    device = {
        "name": "gpu",
        "peak_flops_per_s": {"bf16": 312e12},
        "bandwidth_bytes_per_s": 2e12,
        "memory_bytes": 80e9,
    }
    return write(tmp, "gpu.json", json.dumps(device | change))


def hf_cache_with_an_escaping_ref(tmp: Path) -> str:
    snapshots = tmp / "hub" / "models--acme--Tiny" / "snapshots" / "abc"
    snapshots.mkdir(parents=True)
    shutil.copy(PRESET, snapshots / "config.json")
    (tmp / "hub" / "models--acme--Tiny" / "refs").mkdir()
    (tmp / "hub" / "models--acme--Tiny" / "refs" / "main").write_text("../../../../etc")
    return "acme/Tiny"


Argv = Callable[[Path], list[str]]
CLI_CORPUS: list[tuple[str, Argv, str]] = [
    (
        "tiny bandwidth, json",
        lambda t: ["analyze", "--bandwidth", "1e-300", "--format", "json"],
        "--bandwidth",
    ),
    ("tiny bandwidth, table", lambda t: ["analyze", "--bandwidth", "1e-300"], "1 GB/s to 100 TB/s"),
    ("tiny peak", lambda t: ["analyze", "--peak-flops", "1e-320"], "1 GFLOP/s to 100 PFLOP/s"),
    (
        "tiny roofs, web",
        lambda t: ["web", "--bandwidth", "1e-300", "--out", str(t / "r.html")],
        "--bandwidth",
    ),
    (
        "tiny roofs, plot",
        lambda t: ["plot", "--peak-flops", "1e-300", "--out", str(t / "r.svg")],
        "--peak-flops",
    ),
    (
        "classify tiny bandwidth",
        lambda t: [
            "classify",
            "--d-model",
            "8",
            "--n-layers",
            "1",
            "--seq-len",
            "1",
            "--peak-flops",
            "1e12",
            "--peak-bandwidth",
            "1e-320",
        ],
        "--peak-bandwidth",
    ),
    ("memory without unit", lambda t: ["analyze", "--memory", "80"], "did you mean 80GB?"),
    (
        "bandwidth without unit",
        lambda t: ["analyze", "--bandwidth", "3.35"],
        "did you mean 3.35TB/s?",
    ),
    ("peak without unit", lambda t: ["analyze", "--peak-flops", "989"], "did you mean 989TFLOP/s?"),
    (
        "efficiency 1e300 in a profile",
        lambda t: ["analyze", "--hardware", profile(t, compute_efficiency=1e300)],
        "compute_efficiency must be in (0, 1], got 1e+300",
    ),
    (
        "bandwidth 3.35 in a profile",
        lambda t: ["analyze", "--hardware", profile(t, bandwidth_bytes_per_s=3.35)],
        "did you mean 3.35TB/s?",
    ),
    ("400-digit batch", lambda t: ["analyze", "--batch", "9" * 400], "a number of 400 digits"),
    (
        "hidden_size 10^400",
        lambda t: ["analyze", "--model", config(t, hidden_size=10**400)],
        "'hidden_size' = an integer of about 401 digits is too large",
    ),
    (
        "a billion layers",
        lambda t: ["analyze", "--model", config(t, num_hidden_layers=10**9)],
        "plausible range 1 to 10,000",
    ),
    (
        "100,000 layers",
        lambda t: ["analyze", "--model", config(t, num_hidden_layers=100_000)],
        "plausible range 1 to 10,000",
    ),
    ("batch 1,2", lambda t: ["analyze", "--batch", "1,2"], "a list is not accepted here"),
    (
        "price 1e308",
        lambda t: ["serve-curve", "--price-per-hour", "1e308"],
        "from 0 to 1,000,000 per device-hour",
    ),
    ("chunk size 0", lambda t: ["serve-curve", "--chunk-size", "0"], "must be >= 1, got 0"),
    (
        "spec-k 1e6",
        lambda t: ["serve-curve", "--draft-model", "llama-3.2-1b", "--spec-k", "1e6"],
        "expected a whole number, got '1e6'",
    ),
    (
        "spec-k 10^6",
        lambda t: ["serve-curve", "--draft-model", "llama-3.2-1b", "--spec-k", "1000000"],
        "1 to 64",
    ),
    (
        "deep JSON config",
        lambda t: ["analyze", "--model", write(t, "config.json", "[" * DEEP + "]" * DEEP)],
        "nested 100,000 levels deep",
    ),
    (
        "deep JSON device",
        lambda t: [
            "analyze",
            "--hardware",
            write(t, "d.json", "{" + '"a":{' * DEEP + "}" * (DEEP + 1)),
        ],
        "nested 100,001 levels deep",
    ),
    (
        "deep TOML device",
        lambda t: ["analyze", "--hardware", write(t, "d.toml", "x = " + "[" * DEEP + "]" * DEEP)],
        "nested 100,000 levels deep",
    ),
    (
        "measure into a missing folder",
        lambda t: ["measure", "--quick", "--out", str(t / "no" / "p.json")],
        "no such directory",
    ),
    (
        "list model_type",
        lambda t: ["analyze", "--model", config(t, model_type=["llama"])],
        "'model_type' = ['llama'] is not supported",
    ),
    (
        "dict model_type",
        lambda t: ["analyze", "--model", config(t, model_type={})],
        "'model_type' = {} is not supported",
    ),
    (
        "--hardware=--",
        lambda t: ["analyze", "--hardware=--"],
        "argument --hardware: expected a value, got '--'",
    ),
    (
        "empty --hardware",
        lambda t: ["compare", "--hardware", ""],
        "argument --hardware: expected a value",
    ),
    ("a typo'd command", lambda t: ["serve-curev"], "did you mean 'serve-curve' or 'serve'?"),
    (
        "HF ref leaving the cache",
        lambda t: ["analyze", "--model", hf_cache_with_an_escaping_ref(t)],
        "refusing to follow it",
    ),
    (
        "validate with a bad device",
        lambda t: ["validate", "--hardware", "nope"],
        "unknown hardware 'nope'",
    ),
    (
        "two models where one is taken",
        lambda t: ["analyze", "--model", "gpt2,opt-1.3b"],
        "--model takes one model here",
    ),
]


@pytest.mark.parametrize(("what", "argv", "needle"), CLI_CORPUS, ids=[c[0] for c in CLI_CORPUS])
def test_command_line_corpus(
    what: str,
    argv: Argv,
    needle: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    code = main(argv(tmp_path))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "error:" in lines[0] and needle in lines[0], lines[0]


def test_the_default_command_takes_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--batch", "8", "--format", "json"]) == 0  # once "invalid choice: '8'"
    assert json.loads(capsys.readouterr().out)["workload"]["batch_size"] == 8


def tiny(**change: Any) -> Model:
    return Model(**({"name": "t", "vocab_size": 100, "hidden_size": 64, "num_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                     "intermediate_size": 128} | change))  # fmt: skip


API_CORPUS: list[tuple[str, Callable[[], object], type, str]] = [
    ("Model(moe='yes')", lambda: tiny(moe="yes"), TypeError, "moe must be a MoE or None"),
    (
        "Model(num_layers=32.5)",
        lambda: tiny(num_layers=32.5),
        ValueError,
        "num_layers must be a whole number",
    ),
    (
        "Model(num_layers=True)",
        lambda: tiny(num_layers=True),
        TypeError,
        "num_layers must be a whole number",
    ),
    (
        "sliding_window_layers=None",
        lambda: tiny(sliding_window=4, sliding_window_layers=None),
        TypeError,
        "sliding_window_layers must be a tuple",
    ),
    (
        "hidden_size=10**400",
        lambda: tiny(hidden_size=10**400),
        ValueError,
        "hidden_size = an integer of about 401 digits",
    ),
    (
        "10^17 experts",
        lambda: MoE(10**17, 2, 64),
        ValueError,
        "moe.num_experts = 100000000000000000 is outside",
    ),
    (
        "Workload(output_len=10**308)",
        lambda: Workload(output_len=10**308),
        ValueError,
        "output_len = an integer of about 309 digits",
    ),
    (
        "Hardware(efficiency_table='fast')",
        lambda: Hardware("h", {"bf16": 1e14}, 2e12, 8e10, efficiency_table="fast"),
        TypeError,
        "efficiency_table must be a dict",
    ),
    (
        "efficiency 1e300",
        lambda: Hardware("h", {"bf16": 1e14}, 2e12, 8e10, compute_efficiency=1e300),
        ValueError,
        "compute_efficiency must be in (0, 1]",
    ),
    (
        "memory 80",
        lambda: Hardware("h", {"bf16": 1e14}, 2e12, 80),
        ValueError,
        "did you mean 80GB?",
    ),
    ("get_model(None)", lambda: get_model(None), TypeError, "model must be a preset name"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    ("what", "make", "error", "needle"), API_CORPUS, ids=[c[0] for c in API_CORPUS]
)
def test_api_corpus(what: str, make: Callable[[], object], error: type, needle: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert needle in str(info.value)


ENGINE_CORPUS: list[tuple[str, Callable[[], object], str]] = [
    (
        "analyze(str, H, W)",
        lambda: analyze("llama-3.1-8b", get_hardware("h100-sxm"), Workload()),
        "model must be a Model",
    ),  # type: ignore[arg-type]
    (
        "analyze(M, H, None)",
        lambda: analyze(get_model("gpt2"), get_hardware("h100-sxm"), None),
        "workload must be a Workload",
    ),  # type: ignore[arg-type]
    ("Report.from_dict(None)", lambda: Report.from_dict(None), "must be a dict"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    ("what", "make", "needle"), ENGINE_CORPUS, ids=[c[0] for c in ENGINE_CORPUS]
)
def test_engine_entry_points_check_types(
    what: str, make: Callable[[], object], needle: str
) -> None:
    with pytest.raises(TypeError) as info:
        make()
    assert needle in str(info.value)
