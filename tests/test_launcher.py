"""The quick-start launcher's supervision: a process that exits is restarted,
one that keeps exiting stops the launcher."""

from __future__ import annotations

import sys
import time

import pytest

from appliance import launcher as launcher_module
from appliance.launcher import Launcher


@pytest.fixture
def supervisor(tmp_path, monkeypatch):
    monkeypatch.setenv("APPLIANCE_VAR_DIR", str(tmp_path))
    supervised = Launcher()
    supervised.logs.mkdir(parents=True)
    yield supervised
    supervised.stop()


def wait_for_exit(supervised: Launcher) -> None:
    for child in supervised.children:
        child.process.wait(timeout=30)


def test_exited_process_restarted(supervisor):
    supervisor.spawn("short", [sys.executable, "-c", "raise SystemExit(3)"])
    first = supervisor.children[0].process
    wait_for_exit(supervisor)
    supervisor.check_children()
    child = supervisor.children[0]
    assert child.process is not first
    assert len(child.restarts) == 1


def test_repeated_exits_stop_launcher(supervisor, monkeypatch):
    monkeypatch.setattr(launcher_module, "RESTART_LIMIT", 2)
    supervisor.spawn("crashing", [sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(SystemExit, match="crashing exited with status 3 2 times"):
        for _ in range(3):
            wait_for_exit(supervisor)
            supervisor.check_children()
            time.sleep(0.05)


def test_stopping_launcher_restarts_nothing(supervisor):
    supervisor.spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor.stop()
    supervisor.check_children()
    assert supervisor.children[0].restarts == []
