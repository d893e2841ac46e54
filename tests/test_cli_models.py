"""`llm-roofline models` through the real entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from llm_roofline.catalog.model_catalog import list_models
from llm_roofline.cli import main

Capture = pytest.CaptureFixture[str]


def test_help_shows_examples(capsys: Capture) -> None:
    assert main(["models", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "llm-roofline models show mixtral-8x7b" in out


def test_list_every_preset(capsys: Capture) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for entry in list_models():
        assert entry.alias in out
    assert f"{len(list_models())} presets" in out


def test_filter(capsys: Capture) -> None:
    assert main(["models", "mixtral"]) == 0
    lines = capsys.readouterr().out.splitlines()
    body = [line for line in lines[2:] if line.strip() and "presets" not in line]
    assert body and all("mixtral" in line.lower() for line in body)


def test_show(capsys: Capture) -> None:
    assert main(["models", "show", "llama-3.1-8b"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "meta-llama/Llama-3.1-8B"
    assert "8,030,261,248" in out  # the parameter count, computed and published
    assert "32 query, 8 KV, head_dim 128" in out
    assert "published parameters: 8,030,261,248" in out
    assert "  repository  https://huggingface.co/meta-llama/Llama-3.1-8B\n" in out
    assert (
        "  config      https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json" in out
    )
    assert "_reconstructed_from" not in out and "Verbatim:" not in out  # no research notes


def test_show_moe(capsys: Capture) -> None:
    assert main(["models", "show", "mixtral-8x7b"]) == 0
    assert "8 experts, top-2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["show", "nope-model"], "nope-model"),
        (["show"], "models show NAME"),
        (["a", "b"], "one FILTER"),
        (["zzzz-no-match"], "no model preset matches"),
    ],
)
def test_bad_calls(args: list[str], needle: str, capsys: Capture) -> None:
    assert main(["models", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llm_roofline", "models", "show", "gpt2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "tied embeddings" in result.stdout
