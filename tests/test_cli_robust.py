"""The command line's rough edges: parsing, the default command, typos, --version,
completion, Ctrl-C, missing extras, output paths checked first, CSV, and the UX of
measure and validate."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import llm_roofline
from llm_roofline import Model, Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model
from llm_roofline.cli import UsageError, build_parser, main
from llm_roofline.render.progress import Progress
from llm_roofline.validate.compare import Row, host_load_warning, validation
from llm_roofline.validate.render import render_table

Capture = pytest.CaptureFixture[str]


def error_line(code: int, capsys: Capture) -> str:
    """The one stderr line of a usage error (exit 2)."""
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["analyze", "--batch", "1,2"],
            "llm-roofline analyze: error: argument --batch: expected a whole number, got '1,2' "
            "(one value: a list is not accepted here)",
        ),
        (
            ["analyze", "--batch", "9" * 400],
            "llm-roofline analyze: error: argument --batch: a number of 400 digits is outside the "
            "plausible range 1 to 10,000,000",
        ),
        (
            ["analyze", "--batch", "10000001"],
            "llm-roofline analyze: error: argument --batch: 10000001 is outside the plausible "
            "range 1 to 10,000,000",
        ),
        (
            ["analyze", "--memory", "80"],
            "llm-roofline analyze: error: argument --memory: 80 B is outside the plausible range "
            "1 MB to 100 TB; did you mean 80GB?",
        ),
        (
            ["analyze", "--bandwidth", "3.35"],
            "llm-roofline analyze: error: argument --bandwidth: 3.35 B/s is outside the plausible "
            "range 1 GB/s to 100 TB/s; did you mean 3.35TB/s?",
        ),
        (
            ["analyze", "--peak-flops", "989"],
            "llm-roofline analyze: error: argument --peak-flops: 989 FLOP/s is outside the "
            "plausible range 1 GFLOP/s to 100 PFLOP/s; did you mean 989TFLOP/s?",
        ),
        (
            ["analyze", "--bandwidth", "1e-300"],
            "llm-roofline analyze: error: argument --bandwidth: 1e-300 B/s is outside the "
            "plausible range 1 GB/s to 100 TB/s",
        ),
        (
            ["analyze", "--hardware=--"],
            "llm-roofline: error: argument --hardware: expected a value, got '--'",
        ),
        (
            ["analyze", "--model="],
            "llm-roofline: error: argument --model: expected a value, got ''",
        ),
        (
            ["analyze", "--model", " "],
            "llm-roofline analyze: error: argument --model: expected a value, got ' '",
        ),
        (
            ["analzye"],
            "llm-roofline: error: unknown command 'analzye'; did you mean 'analyze'? commands: "
            "analyze, compare, plot, models, hardware, classify, measure, validate, serve-curve, "
            "sweep, plan, web, serve, completion",
        ),
        (
            ["serve-curve", "--spec-k", "1000000", "--draft-model", "llama-3.2-1b"],
            "llm-roofline serve-curve: error: argument --spec-k: 1000000 is outside the plausible "
            "range 1 to 64",
        ),
        (
            ["serve-curve", "--batch-sizes", "1,,99999999"],
            "llm-roofline serve-curve: error: argument --batch-sizes: 99999999 is outside the "
            "plausible range 1 to 10,000,000",
        ),
        (
            ["analyze", "--tp", "2.5"],
            "llm-roofline analyze: error: argument --tp: expected a whole number, got '2.5'",
        ),
    ],
)
def test_bad_values_get_one_line(argv: list[str], line: str, capsys: Capture) -> None:
    assert error_line(main(argv), capsys) == line


def test_bare_flags_run_the_default_command(capsys: Capture) -> None:
    assert main(["--batch", "8", "--format", "json"]) == 0
    bare = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--batch", "8", "--format", "json"]) == 0
    assert bare == json.loads(capsys.readouterr().out)
    assert bare["workload"]["batch_size"] == 8


def test_version(capsys: Capture) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"llm-roofline {llm_roofline.__version__}\n"


# ---- completion ------------------------------------------------------------------------


def complete(script: str, words: list[str]) -> list[str]:
    """COMPREPLY of the bash completion function for ``words`` (the last one is completed)."""
    program = (
        f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n_llm_roofline_complete\nprintf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion(capsys: Capture) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert complete(script, ["llm-roofline", "ser"]) == ["serve-curve", "serve"]
    assert complete(script, ["llm-roofline", "analyze", "--per"]) == ["--per-operator"]
    assert complete(script, ["llm-roofline", "analyze", "--format", ""]) == ["table", "json", "csv"]
    assert "h100-sxm" in complete(script, ["llm-roofline", "compare", "--hardware", "h10"])
    assert "llama-3.1-8b" in complete(script, ["llm-roofline", "analyze", "--model", "llama-3.1"])
    assert complete(script, ["llm-roofline", "--batch", "8", "--prompt"]) == ["--prompt-len"]
    assert main(["completion", "zsh"]) == 0
    zsh = capsys.readouterr().out
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert "complete -o default -F _llm_roofline_complete llm-roofline" in zsh


# ---- Ctrl-C and missing extras ---------------------------------------------------------


def test_ctrl_c_is_exit_130_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    import llm_roofline.cli.analyze as command

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "run", interrupted)
    assert main(["analyze"]) == 130
    assert capsys.readouterr().err.strip() == "llm-roofline: interrupted"


def test_a_real_sigint_exits_130() -> None:
    code = (
        "import os, signal, sys, time\n"
        "import llm_roofline.cli.analyze as command\n"
        "def run(args):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "command.run = run\n"
        "from llm_roofline.cli import main\n"
        "sys.exit(main(['analyze']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and done.stderr.strip() == "llm-roofline: interrupted"


@pytest.mark.parametrize(
    ("argv", "blocked", "line"),
    [
        (
            ["validate", "--hardware", "h100-sxm"],
            ("torch",),
            "llm-roofline: error: validate needs torch, which is not installed: "
            "pip install 'llm-roofline[torch]'",
        ),
        (
            ["measure", "--quick"],
            ("torch", "numpy"),
            "llm-roofline: error: measure needs torch, which is not installed: pip install "
            "'llm-roofline[torch]' (or 'llm-roofline[measure]' to measure with numpy alone)",
        ),
        (
            ["plot", "--out", "r.svg"],
            ("matplotlib",),
            "llm-roofline: error: plot needs matplotlib, which is not installed: "
            "pip install 'llm-roofline[plot]'",
        ),
        (  # a bad option is still reported first, without torch
            ["validate", "--hardware", "h900"],
            ("torch",),
            "llm-roofline: error: --hardware 'h900': unknown hardware 'h900'",
        ),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(
    argv: list[str],
    blocked: tuple[str, ...],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    for module in blocked:
        monkeypatch.setitem(sys.modules, module, None)  # an import of it now fails
    assert error_line(main(argv), capsys).startswith(line)


# ---- output paths are checked before work ------------------------------------------------


def test_measure_out_in_a_missing_folder_fails_before_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    import llm_roofline.measure as measure

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured before checking --out")

    monkeypatch.setattr(measure, "measure_profile", never)
    out = tmp_path / "missing" / "cpu.json"
    line = error_line(main(["measure", "--quick", "--out", str(out)]), capsys)
    assert line == (
        f"llm-roofline measure: error: argument --out: cannot write {str(out)!r}: "
        f"no such directory {str(out.parent)!r}"
    )
    line = error_line(main(["measure", "--out", str(tmp_path)]), capsys)
    assert line.endswith("must end in .json, got " + repr(str(tmp_path)))


def test_analyze_plot_path_is_checked_first(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "no" / "r.svg"
    line = error_line(main(["analyze", "--plot", str(out)]), capsys)
    assert line.startswith("llm-roofline analyze: error: argument --plot: cannot write")


# ---- classify, compare, serve-curve ------------------------------------------------------


def test_classify_takes_units_and_format_json(capsys: Capture) -> None:
    args = ["classify", "--d-model", "4096", "--n-layers", "32", "--seq-len", "512"]
    assert main([*args, "--peak-flops", "312T", "--peak-bandwidth", "2.039TB/s", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (
        main([*args, "--peak-flops", "312 TFLOP/s", "--bandwidth", "2039GB/s", "--format", "json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out) == first
    assert first["ridge_point"] == 153.0162  # 312e12 / 2.039e12, rounded to 4 places


def test_compare_csv_holds_the_reports_numbers(capsys: Capture) -> None:
    assert main(["compare", "--hardware", "h100-sxm,a100-sxm-80gb", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["column"] for r in rows] == ["h100-sxm", "a100-sxm-80gb"]
    report = analyze(get_model("llama-3.1-8b"), get_hardware("a100-sxm-80gb"), Workload())
    assert float(rows[1]["tpot_s"]) == report.metrics.tpot_s
    assert float(rows[1]["bandwidth_bytes_per_s"]) == 2.039e12
    assert rows[0]["fits"] == "true" and rows[0]["decode_bound"] == "memory-bound"


def test_serve_curve_csv_and_rows_that_do_not_fit(capsys: Capture) -> None:
    args = ["serve-curve", "--model", "llama-3.1-70b", "--hardware", "h100-sxm"]
    assert main([*args, "--batch-sizes", "1,2", "--price-per-hour", "2", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["batch_size"] for r in rows] == ["1", "2"]
    assert [r["fits"] for r in rows] == ["False", "False"]  # 141 GB of weights on 80 GB
    assert main([*args, "--batch-sizes", "1", "--price-per-hour", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    cells = table[-1].split()
    # batch, TTFT, TPOT, e2e, tok/s, tok/s/dev: no latency or cost for a batch that cannot run
    assert cells[:6] == ["1", "-", "-", "-", "-", "-"]
    assert cells[-3:] == ["no", "memory", "-"]  # fits, decode bound, $/Mtok


# ---- validate and measure UX -----------------------------------------------------------


def test_progress_shows_elapsed_and_eta() -> None:
    now = [100.0]
    bar = Progress(4, "validate", io.StringIO(), eta=True, clock=lambda: now[0])
    now[0] = 130.0
    bar.advance()  # 30 s for 1 of 4: 90 s left
    assert bar.line() == "validate [######------------------] 1/4  25% 0:30 elapsed, ETA 1:30"
    now[0] = 3730.0
    bar.advance(3)
    assert bar.line().endswith("4/4 100% 1:00:30 elapsed")


def rows(spreads: list[float], name: str = "m") -> list[Row]:
    return [
        Row(name, "fp32", "decode", 1, 64, 1.0, 0.5, 1.0, 0.8, runs=5, quiet_runs=1, spread=s)
        for s in spreads
    ]


def test_host_load_warning_compares_the_repeats_spread() -> None:
    quiet = rows([0.02, 0.05, 0.3, 0.01, 0.03])  # 1 of 5 noisy: under a quarter
    assert host_load_warning(validation(quiet, {})) is None
    text = host_load_warning(validation(rows([0.4, 0.5, 0.1, 0.02]), {}))
    assert text == (
        "the host looks loaded: the timed runs of 2 of 4 points spread by more than 25% "
        "(median spread 25%; 20% of the runs had no other process beside them), so the errors "
        "mix the model's error with the machine's noise; rerun on a quiet machine, with more "
        "--repeats, or with --statistic min"
    )


def test_validate_table_does_not_cut_model_names() -> None:
    name = "HuggingFaceTB/SmolLM2-1.7B-Instruct-with-a-long-suffix"
    table = render_table(validation(rows([0.0], name), {}))
    assert f"\n{name} fp32" in table


def test_validate_defaults_to_a_small_model_and_checks_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llm_roofline.cli import validate as command
    from llm_roofline.validate import harness
    from llm_roofline.validate.points import grid

    args = build_parser().parse_args(["validate", "--hardware", "h100-sxm"])
    assert args.model == "qwen2.5-0.5b"
    monkeypatch.setattr(harness, "free_memory_bytes", lambda device: 4e9)
    big = get_model("llama-3.1-8b")
    points = grid(["fp32"], [128], [1], [512])
    # fp32 weights alone: 8,030,261,248 parameters × 4 bytes = 32.1 GB > 4 GB free
    with pytest.raises(UsageError) as info:
        command.check_memory(big, points, "cpu", "ours")
    assert str(info.value).startswith("--model meta-llama/Llama-3.1-8B: one build needs about 32.")
    assert "but cpu memory has 4.00 GB free" in str(info.value)
    small: Model = get_model("qwen2.5-0.5b")
    command.check_memory(small, points, "cpu", "ours")  # 494M × 4 bytes fits in 4 GB
