"""Text rendering of a ``Validation`` (JSON is ``Validation.to_dict``). Computes nothing."""

from __future__ import annotations

from .compare import Row, Validation


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:10.2f}"


def _pct(error: float) -> str:
    return f"{error * 100:+7.1f}%"


def _probed(v: Validation) -> bool:
    return bool(v.meta.get("host_probe"))


def _host(r: Row) -> str:
    """The host's speed against the profile's: GEMM/read ratios (now / profile)."""
    return f"{r.compute_ratio:4.2f}/{r.memory_ratio:4.2f}x"


def probe_lines(v: Validation) -> list[str]:
    """What the host probe saw, and that the predictions are normalized by it."""
    h = v.meta.get("host_probe")
    if not h:
        return ["", "no host probe (the profile has none): predictions as the profile says"]
    gemm = ", ".join(
        f"{d} {s['min']:.2f}-{s['max']:.2f} (median {s['median']:.2f})"
        for d, s in h["gemm_ratio"].items()
    )
    read = h["read_ratio"]
    lines = [
        "",
        f"host probe, now / profile (the 'host' column: GEMM/read): GEMM {gemm}; read "
        f"{read['min']:.2f}-{read['max']:.2f} (median {read['median']:.2f}); ideal and "
        "calibrated are normalized by it",
    ]
    if h["points_slower_than_margin"]:
        lines.append(
            f"host slower than the profile by more than {h['margin']:.0%} at "
            f"{h['points_slower_than_margin']} points after {h['reprobes']} re-probes"
        )
    return lines


def render_table(v: Validation) -> str:
    """Measured vs ideal vs calibrated (and flat-default) times, then the error summary."""
    width = max([len("model"), *(len(r.model) for r in v.rows)])  # names are never cut
    head = (
        f"{'model':{width}s} {'dtype':5s} {'phase':7s} {'batch':>5s} {'tokens':>6s} "
        f"{'measured ms':>11s} {'ideal ms':>10s} {'err':>8s} {'calib ms':>10s} {'err':>8s} "
        f"{'flat ms':>10s} {'err':>8s}" + (f" {'host':>11s}" if _probed(v) else "")
    )
    lines = [head, "-" * len(head)]
    for r in v.rows:
        lines.append(
            f"{r.model:{width}s} {r.dtype:5s} {r.phase:7s} {r.batch:5d} {r.tokens:6d} "
            f"{_ms(r.measured_s):>11s} {_ms(r.ideal_s)} {_pct(r.ideal_error)} "
            f"{_ms(r.calibrated_s)} {_pct(r.calibrated_error)} "
            f"{_ms(r.flat_s)} {_pct(r.flat_error)}" + (f" {_host(r)}" if _probed(v) else "")
        )
    lines += [*probe_lines(v), ""]
    lines += ["summary (|error| of the calibrated prediction; ideal error should be <= 0):"]
    for s in v.summary:
        lines.append(
            f"  {s.dtype:5s} {s.phase:7s} n={s.points:<3d} calibrated median {s.calibrated_median_abs_error:6.1%}"
            f" worst {s.calibrated_worst_abs_error:6.1%} | flat-default median "
            f"{s.flat_median_abs_error:6.1%} | ideal median {s.ideal_median_error:+6.1%}"
            f"{'' if s.ideal_never_above else '  IDEAL ABOVE MEASURED'}"
        )
    return "\n".join(lines)


def render_markdown(v: Validation) -> str:
    """The same as a Markdown table (for docs and the GPU check's output)."""
    lines = [
        "| model | dtype | phase | batch | tokens | measured ms | ideal ms (err) "
        "| calibrated ms (err) | flat-default ms (err) | host GEMM/read |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in v.rows:
        lines.append(
            f"| {r.model} | {r.dtype} | {r.phase} | {r.batch} | {r.tokens} "
            f"| {r.measured_s * 1e3:.2f} | {r.ideal_s * 1e3:.2f} ({r.ideal_error:+.1%}) "
            f"| {r.calibrated_s * 1e3:.2f} ({r.calibrated_error:+.1%}) "
            f"| {r.flat_s * 1e3:.2f} ({r.flat_error:+.1%}) | {_host(r)} |"
        )
    lines += probe_lines(v)
    lines += [
        "",
        "| dtype | phase | points | calibrated median abs err | worst | flat-default median "
        "| ideal median err | ideal <= measured |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in v.summary:
        lines.append(
            f"| {s.dtype} | {s.phase} | {s.points} | {s.calibrated_median_abs_error:.1%} "
            f"| {s.calibrated_worst_abs_error:.1%} | {s.flat_median_abs_error:.1%} "
            f"| {s.ideal_median_error:+.1%} | {'yes' if s.ideal_never_above else 'NO'} |"
        )
    return "\n".join(lines)
