"""No library reaches the internet at run time: redacting e-mail addresses and
URLs (which makes Presidio consult tldextract) opens no connection. Only a
short list of modules imports a network client at all, and only the
escalation egress module may reach an external provider."""

from __future__ import annotations

import ast
import socket
from pathlib import Path
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


# Modules allowed to open network connections, and to whom. Every other
# module of the appliance and its workers imports no network client.
NETWORK_MODULES = {
    "appliance/inference/client.py": "configured local engines",
    "appliance/inference/streaming.py": "configured local engines",
    "appliance/hr/embeddings.py": "a configured local embeddings endpoint",
    "appliance/console/status.py": "configured local engines and the broker",
    "appliance/webhooks/services.py": "webhook endpoints; ids and states only",
    "appliance/api/health.py": "configured local engines and the broker",
    "appliance/audit/kek.py": "the configured Vault transit engine",
    "appliance/launcher.py": "the processes the quick start starts itself",
    "appliance/embedded.py": "the embedded PostgreSQL and a local broker",
    "appliance/escalation/egress.py": "external providers, after approval",
}
NETWORK_LIBRARIES = (
    "httpx",
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "socket",
    "aiohttp",
    "smtplib",
    "ftplib",
    "openai",
)
ROOT = Path(__file__).resolve().parents[1]


def network_imports(path: Path) -> set[str]:
    """Network libraries that ``path`` imports; ``openai.types`` (response
    models, no client) does not count."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            if name.startswith("openai.types"):
                continue
            for library in NETWORK_LIBRARIES:
                if name == library or name.startswith(library + "."):
                    found.add(library)
    return found


def source_files() -> list[Path]:
    files = [*(ROOT / "appliance").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]
    return [path for path in files if "migrations" not in path.parts]


def test_only_listed_modules_import_network_clients():
    offenders = {
        str(path.relative_to(ROOT)): sorted(libraries)
        for path in source_files()
        if (libraries := network_imports(path))
        and str(path.relative_to(ROOT)) not in NETWORK_MODULES
    }
    assert offenders == {}


def test_only_egress_reaches_external_providers():
    """Within the escalation app, only the egress module may send; and no
    module outside it uses the provider settings to build a connection."""
    escalation = ROOT / "appliance" / "escalation"
    senders = {
        str(path.relative_to(ROOT))
        for path in escalation.rglob("*.py")
        if network_imports(path)
    }
    assert senders == {"appliance/escalation/egress.py"}
    importers = {
        str(path.relative_to(ROOT))
        for path in source_files()
        if "from appliance.escalation import egress" in path.read_text()
        or "appliance.escalation.egress" in path.read_text()
    }
    # The Celery task shell is the one caller.
    assert importers == {"workers/tasks.py"}
