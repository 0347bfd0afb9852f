"""--backend and --address (issue 21): wrong use is a one-line usage error before any work,
and an address nothing listens at is refused in seconds (Ray itself retries for minutes)."""
from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from superopt.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("command", [["search", "sort3", "--agent", "enum"], ["train", "sort3", "--steps", "1"]])
def test_an_address_without_the_ray_backend_is_bad_usage(command, tmp_path):
    result = run(*command, "--address", "auto", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "--address is for --backend ray" in result.output


@pytest.mark.parametrize("address", ["bad address", "host", "host:", ":80", "host:0", "host:99999", "a b:80"])
def test_a_malformed_address_is_bad_usage(address, tmp_path):
    result = run("search", "sort3", "--backend", "ray", "--address", address, "--out", str(tmp_path / "s.s"))
    assert result.exit_code == 2 and "is not a Ray cluster address (auto, or HOST:PORT of its head)" in result.output


def test_an_address_nothing_listens_at_is_refused_at_once(tmp_path):
    pytest.importorskip("ray")
    with socket.socket() as free:          # a port that was free a moment ago
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = run("search", "sort3", "--agent", "enum", "--backend", "ray", "--address", "127.0.0.1:%d" % port,
                 "--out", str(tmp_path / "s.s"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: cannot reach the Ray cluster at 127.0.0.1:")
    assert not (tmp_path / "s.s").exists()
