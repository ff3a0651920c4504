"""No library reaches the internet at run time: redacting e-mail addresses and
URLs (which makes Presidio consult tldextract) opens no connection."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from appliance.privacy import engines
from appliance.privacy.registry import build_config, read_file


@pytest.fixture
def connections(monkeypatch):
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def watch(sock: socket.socket, address: Any) -> None:
        attempts.append(address)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", watch)
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *a, **k: attempts.append(address)
    )
    return attempts


def test_analysis_opens_no_connection(connections):
    analyzer = engines.build(build_config(read_file(), countries=["us"]))
    results = analyzer.analyze(
        "Mail jane.roe@example.co.uk or see https://intranet.example.org/hr today."
    )
    assert {r.entity_type for r in results} >= {"EMAIL_ADDRESS"}
    assert connections == []
