"""`llm-roofline serve`: loopback by default, one clear line for every refusal, a real start."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

import llm_roofline
from llm_roofline.cli import app as serve_cli
from llm_roofline.cli import main

SRC = str(Path(llm_roofline.__file__).resolve().parents[1])


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_names_the_extra_and_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(["serve", "--help"], capsys)
    assert code == 0
    assert "pip install 'llm-roofline[serve]'" in out and "127.0.0.1" in out
    assert "--allow-remote" in out and "--open" in out
    code, out, _ = call(["--help"], capsys)
    assert "serve-curve" in out and re.search(r"\bserve\s+start the local web app", out)


def test_help_does_not_import_the_web_stack() -> None:
    code = "import sys; from llm_roofline.cli import main; main(['serve', '--help']); "
    code += "print(sorted(m for m in ('fastapi', 'uvicorn', 'pydantic') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        check=True,
    ).stdout
    assert out.strip().endswith("[]")


def test_missing_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve_cli, "missing_extra", lambda: ["fastapi", "uvicorn"])
    code, out, err = call(["serve"], capsys)
    assert code == 2 and out == ""
    assert err == (
        "llm-roofline: error: serve needs fastapi and uvicorn: pip install 'llm-roofline[serve]'\n"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert serve_cli.is_loopback(host) is loopback


def test_non_loopback_host_needs_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastapi")
    code, _, err = call(["serve", "--host", "0.0.0.0"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "--host 0.0.0.0 is not a loopback address" in err and "--allow-remote" in err


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["serve", "--port", port], capsys)
    assert code == 2 and "argument --port" in err


def test_busy_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastapi")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = call(["serve", "--port", str(port)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"--host 127.0.0.1 --port {port}: cannot bind" in err


class FakeServer:
    """Stands in for uvicorn.Server: records what it was given, serves nothing."""

    seen: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Any) -> None:
        FakeServer.seen["app"] = config.app

    def run(self, sockets: list[socket.socket]) -> None:
        FakeServer.seen["address"] = sockets[0].getsockname()


def test_remote_with_the_flag_warns_and_open_opens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    uvicorn = pytest.importorskip("uvicorn")
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    monkeypatch.setattr(webbrowser, "open", opened.append)
    real_bind = serve_cli.bind
    monkeypatch.setattr(serve_cli, "bind", lambda host, port: real_bind("127.0.0.1", 0))
    code, _, err = call(["serve", "--host", "0.0.0.0", "--allow-remote", "--open"], capsys)
    assert code == 0
    port = FakeServer.seen["address"][1]
    assert "llm-roofline: warning: serving on 0.0.0.0: anyone who can reach" in err
    assert f"llm-roofline: serving on http://127.0.0.1:{port}/ (Ctrl-C stops)" in err
    assert opened == [f"http://127.0.0.1:{port}/"]
    middleware = [m.cls.__name__ for m in FakeServer.seen["app"].user_middleware]
    assert "TrustedHostMiddleware" not in middleware  # remote: any Host header


def test_it_starts_prints_its_url_and_answers() -> None:
    pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_roofline", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stderr.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(60)
        match = re.fullmatch(
            r"llm-roofline: serving on (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n", line[0]
        )
        assert match, line
        url = match.group(1)
        options = httpx.get(url + "api/options", timeout=30)
        assert options.status_code == 200 and options.json()["default_model"] == "llama-3.1-8b"
        assert httpx.get(url + "openapi.json", timeout=30).json()["info"]["title"] == "llm-roofline"
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "<title>llm-roofline report</title>" in page.text
        rebound = httpx.get(url + "api/options", headers={"Host": "attacker.example"}, timeout=30)
        assert rebound.status_code == 400  # loopback only: another Host is refused
    finally:
        proc.terminate()
        proc.wait(timeout=20)
