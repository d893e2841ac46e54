"""Reading a user's JSON or TOML document with its nesting limited before it is parsed.

Python's parsers recurse once per level of nesting, so a file of 100,000 nested brackets
ends in ``RecursionError`` (JSON, TOML arrays and inline tables), and TOML's dotted keys
(``a.a.a...``) take time quadratic in their length. Every document this project reads
(a config.json, a device file, a measured profile, a report) nests fewer than ten levels,
so anything beyond ``MAX_NESTING`` is refused with one ``ValueError`` naming the file,
before the parser sees it. The scan is linear in the text and skips strings and comments.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

MAX_NESTING = 64  # levels of brackets, or parts of one dotted TOML key

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
# TOML strings (multi-line first), then comments; what is left holds keys and brackets.
_TOML_STRING = re.compile(
    r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'', re.DOTALL
)
_TOML_COMMENT = re.compile(r"#[^\n]*")
_DOTTED = re.compile(r"[\w-]+(?:[ \t]*\.[ \t]*[\w-]+)+")


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_nesting(text: str) -> int:
    """The deepest level of ``[`` / ``{`` outside strings (0 for a bare number)."""
    return _bracket_depth(_JSON_STRING.sub('""', text))


def toml_nesting(text: str) -> int:
    """The deeper of the bracket nesting and the longest dotted key, outside strings."""
    code = _TOML_COMMENT.sub("", _TOML_STRING.sub("s", text))
    dotted = max((m.group().count(".") + 1 for m in _DOTTED.finditer(code)), default=0)
    return max(_bracket_depth(code), dotted)


def data_depth(data: Any) -> int:
    """The nesting depth of parsed data (dicts and lists), walked without recursion."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if depth + 1 > MAX_NESTING:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(origin: str, depth: int) -> ValueError:
    return ValueError(
        f"{origin}: nested {depth:,} levels deep; at most {MAX_NESTING} are accepted "
        "(no config, device file or report nests more than a few)"
    )


def load_json(
    text: str,
    origin: str,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The parsed JSON, or one ValueError naming ``origin`` (bad JSON, too deep, too long)."""
    depth = json_nesting(text)
    if depth > MAX_NESTING:
        raise _too_deep(origin, depth)
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{origin}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:  # pragma: no cover  # the scan above rules it out
        raise _too_deep(origin, depth) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        if str(exc).startswith(f"{origin}:"):
            raise  # the hook's own error, already naming the file
        raise ValueError(f"{origin}: invalid JSON: {exc}") from None


def load_toml(text: str, origin: str) -> dict[str, Any]:
    """The parsed TOML table, or one ValueError naming ``origin``."""
    depth = toml_nesting(text)
    if depth > MAX_NESTING:
        raise _too_deep(origin, depth)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: invalid TOML: {exc}") from None
    except RecursionError:  # pragma: no cover  # the scan above rules it out
        raise _too_deep(origin, depth) from None
    depth = data_depth(data)
    if depth > MAX_NESTING:
        raise _too_deep(origin, depth)
    return data
