"""`llm-roofline models [FILTER]` and `llm-roofline models show NAME`: the model presets."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..inputs.model import Model

EXAMPLE = """examples:
  llm-roofline models                 # every preset
  llm-roofline models llama           # presets whose id or alias contains 'llama'
  llm-roofline models show mixtral-8x7b
  llm-roofline models show ./my-model/config.json"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="list the model presets, or show one in detail",
        description="List the built-in model presets (optionally only those matching "
        "FILTER), or `show NAME` for one model's shape, parameter counts and sources. NAME "
        "may also be a config.json path or a repository id in the local Hugging Face cache.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="*", metavar="FILTER | show NAME", help="what to list or show")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .common import list_or_show

    return list_or_show("models", list(args.words), listing, show)


def listing(filter: str | None) -> str:
    from ..catalog.model_catalog import list_models, preset_model
    from ..render.table import grid
    from ..render.text import count
    from . import UsageError

    entries = list_models(filter)
    if not entries:
        raise UsageError(f"no model preset matches {filter!r} (try `llm-roofline models`)")
    rows = []
    for e in entries:
        m = preset_model(e.repo_id)
        rows.append(
            (
                e.alias,
                e.repo_id,
                _billions(m.parameter_count),
                _billions(m.active_parameter_count) if m.moe else "",
                count(m.num_layers),
                count(m.hidden_size),
                f"{m.num_attention_heads}/{m.num_key_value_heads}",
                count(m.max_position_embeddings),
            )
        )
    headers = ("alias", "repo id", "params", "active", "layers", "d", "heads q/kv", "context")
    right = (False, False, True, True, True, True, True, True)
    return grid(headers, rows, right) + f"\n\n{len(rows)} presets; details: models show NAME"


def _billions(n: int) -> str:
    return f"{n / 1e9:,.2f}B" if n < 1e10 else f"{n / 1e9:,.1f}B"


def show(name: str) -> str:
    from ..catalog.model_catalog import config_url, find_entry, hub_url
    from ..render.table import wrap
    from .common import load_model

    model = load_model(name, flag="models show")
    lines = [model.name, *_shape(model)]
    entry = find_entry(name) if not _is_path(name) else None
    if entry is not None:
        published = f"{entry.published_parameters:,}" if entry.published_parameters else "not found"
        copy = "verbatim" if entry.config_verbatim else "rebuilt from cross-checked copies"
        lines += [
            "",
            f"alias: {entry.alias}",
            "sources:",
            f"  repository  {hub_url(entry.repo_id)}",
            f"  config      {config_url(entry.repo_id)}",
            f"              bundled copy: {copy} (docs/MODELS.md)",
            f"published parameters: {published} ({entry.published_parameters_rounded})",
            wrap(f"source: {public_source(entry.published_parameters_source)}", hang=4),
        ]
        if entry.notes:
            lines.append(wrap(f"notes: {entry.notes}", indent="", hang=2))
    else:
        lines += ["", wrap(f"source: {model.source}", indent="", hang=2)]
    return "\n".join(lines)


_GITHUB_FILE = re.compile(
    r"public GitHub file located via code-search index \(file id \d+; repository name not "
    r"exposed by the index\)"
)
_BRIEF = re.compile(r"value given in the task brief(?: \([^)]*\))?[;,]?\s*(?:also\s*)?")


def public_source(text: str) -> str:
    """A published count's source as a user reads it: where it was published, without the
    search bookkeeping the index keeps (index ids, how the file was found)."""
    text = _GITHUB_FILE.sub("a public GitHub file", _BRIEF.sub("", text))
    text = text.replace(" in the searched corpora", "").strip(" ;")
    return text[:1].upper() + text[1:] if text else "not recorded"


def _is_path(name: str) -> bool:
    from pathlib import Path

    return Path(name).expanduser().exists()


def _shape(m: Model) -> list[str]:
    from ..inputs.units import format_bytes
    from ..render.text import count

    rows = [
        ("parameters", f"{m.parameter_count:,} (active per token {m.active_parameter_count:,})"),
        ("layers", count(m.num_layers)),
        ("hidden size", count(m.hidden_size)),
        ("attention heads", f"{m.num_attention_heads} query, {m.num_key_value_heads} KV, "
                            f"head_dim {m.head_dim}"),
        ("MLP", f"{'gated' if m.gated_mlp else 'plain'}, intermediate {m.intermediate_size:,}"),
        ("vocabulary", f"{m.vocab_size:,}" + (" (tied embeddings)" if m.tie_word_embeddings
                                              else "")),
        ("max context", count(m.max_position_embeddings)),
        ("KV cache per token", f"{format_bytes(m.kv_bytes_per_token(2.0))} at 16-bit"),
    ]  # fmt: skip
    if m.moe is not None:
        rows.append(
            (
                "MoE",
                f"{m.moe.num_experts} experts, top-{m.moe.experts_per_token}, expert "
                f"intermediate {m.moe.expert_intermediate_size:,}, "
                f"{m.moe.num_shared_experts} shared",
            )
        )
    if m.sliding_window:
        rows.append(
            (
                "sliding window",
                f"{m.sliding_window:,} tokens on {len(m.sliding_window_layers)} layers",
            )
        )
    if m.mla is not None:
        rows.append(("attention kind", "multi-head latent attention (MLA)"))
    width = max(len(k) for k, _ in rows) + 2
    return [f"  {k:<{width}}{v}" for k, v in rows]
