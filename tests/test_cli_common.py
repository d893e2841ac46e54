"""The shared argument groups other commands reuse: model, hardware, workload."""

from __future__ import annotations

import argparse

import pytest

from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.cli import UsageError
from llm_roofline.cli.common import (
    add_hardware_args,
    add_model_args,
    add_workload_args,
    hardware_from_args,
    hardware_list_from_args,
    model_from_args,
    models_from_args,
    split_list,
    warn,
    workload_from_args,
)
from llm_roofline.inputs.workload import Workload


class Raising(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def parser(multiple: bool = False) -> argparse.ArgumentParser:
    p = Raising()
    add_model_args(p, multiple=multiple)
    add_hardware_args(p, multiple=multiple)
    add_workload_args(p)
    return p


def test_defaults_are_the_workload_defaults() -> None:
    args = parser().parse_args([])
    assert workload_from_args(args) == Workload()
    assert model_from_args(args).name == "meta-llama/Llama-3.1-8B"
    assert hardware_from_args(args) == get_hardware("h100-sxm")


def test_every_workload_flag() -> None:
    args = parser().parse_args(
        ["--batch", "8", "--prompt-len", "1024", "--context-len", "0", "--output-len", "0",
         "--weight-dtype", "W4", "--kv-dtype", "float8", "--act-dtype", "FP16",
         "--weight-group-size", "32", "--attention", "eager", "--logits", "all"]
    )  # fmt: skip
    assert workload_from_args(args) == Workload(
        batch_size=8, prompt_len=1024, context_len=0, output_len=0, weight_dtype="int4",
        kv_dtype="fp8", activation_dtype="fp16", weight_group_size=32, attention="eager",
        logits="all",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--batch", "0"], "must be >= 1, got 0"),
        (["--prompt-len", "2k"], "expected a whole number, got '2k'"),
        (["--context-len", "-1"], "must be >= 0"),
        (["--kv-dtype", "int2"], "int2"),
        (["--act-dtype", "int4"], "int4"),  # not a compute dtype
        (["--bandwidth", "fast"], "cannot read 'fast'"),
        (["--peak-flops", "fp8=lots"], "cannot read 'lots'"),
    ],
)
def test_bad_values_name_the_flag(argv: list[str], needle: str) -> None:
    with pytest.raises(ValueError, match="argument --") as info:
        parser().parse_args(argv)
    assert needle in str(info.value)


def test_overrides_apply_to_the_compute_dtype() -> None:
    args = parser().parse_args(
        ["--act-dtype", "fp8", "--peak-flops", "1P", "--peak-flops", "bf16=900T",
         "--bandwidth", "3000 GB/s", "--memory", "96GB"]
    )  # fmt: skip
    hw = hardware_from_args(args)
    assert hw.peak_flops_per_s["fp8"] == 1e15  # the dtype --act-dtype runs at
    assert hw.peak_flops_per_s["bf16"] == 900e12
    assert (hw.bandwidth_bytes_per_s, hw.memory_bytes) == (3e12, 96e9)
    assert get_hardware("h100-sxm").bandwidth_bytes_per_s == 3.35e12  # presets untouched


def test_lists() -> None:
    args = parser(multiple=True).parse_args(
        ["--model", "gpt2, llama-3.2-1b", "--hardware", "l4,t4"]
    )
    assert [name for name, _ in models_from_args(args)] == ["gpt2", "llama-3.2-1b"]
    assert [hw.id for _, hw in hardware_list_from_args(args)] == ["l4", "t4"]
    with pytest.raises(UsageError, match="--model takes one model"):
        model_from_args(args)
    with pytest.raises(UsageError, match="--hardware takes one device"):
        hardware_from_args(args)
    assert split_list(" a,,b , ") == ["a", "b"]


def test_unknown_names_are_usage_errors_naming_the_flag() -> None:
    with pytest.raises(UsageError, match=r"^--model 'gpt-9'"):
        model_from_args(parser().parse_args(["--model", "gpt-9"]))
    with pytest.raises(UsageError, match=r"^--hardware 'h900'"):
        hardware_from_args(parser().parse_args(["--hardware", "h900"]))


def test_warn(capsys: pytest.CaptureFixture[str]) -> None:
    warn(["one", "two"])
    assert capsys.readouterr().err == "llm-roofline: warning: one\nllm-roofline: warning: two\n"


def test_parallelism_flags_with_data_replicas() -> None:
    from llm_roofline.cli.common import add_parallelism_args, parallelism_from_args
    from llm_roofline.inputs.layout import Layout

    p = Raising()
    add_parallelism_args(p)
    assert parallelism_from_args(p.parse_args([])) is None  # one device
    layout = parallelism_from_args(p.parse_args(["--tp", "2", "--dp", "4"]))
    assert layout == Layout(tensor=2, data=4)
    assert layout is not None and layout.devices == 8  # 2 per replica × 4 replicas
    assert parallelism_from_args(p.parse_args(["--dp", "3"])) == Layout(data=3)
    with pytest.raises(ValueError, match="--dp"):
        p.parse_args(["--dp", "0"])
