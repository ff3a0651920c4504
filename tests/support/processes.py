"""Real processes the tests start: the llama.cpp server, Celery workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from appliance.launcher import (
    MODEL_ALIAS,
    default_model_path,
    die_with_parent,
    engine_command,
)

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "var" / "test" / "log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the whole process group, as an out-of-memory kill would."""
        self.stop(signal.SIGKILL)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def spawn(name: str, command: list[str], env: dict[str, str]) -> Process:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    with open(log, "wb") as handle:
        popen = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    return Process(name, popen, log)


@dataclass
class Engine:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    model = MODEL_ALIAS


def start_engine(port: int | None = None, name: str = "engine") -> Engine:
    """The real llama.cpp server with SmolLM2-135M-Instruct."""
    port = port or free_port()
    command = engine_command(default_model_path(), port, threads=2)
    process = spawn(f"{name}-{port}", command, dict(os.environ))
    engine = Engine(process, port)
    try:
        wait_for_http(f"{engine.url}/models", timeout=120)
    except TimeoutError:
        process.stop()
        raise RuntimeError(
            f"llama.cpp server failed to start:\n{process.log_tail()}"
        ) from None
    return engine


def start_worker(
    name: str,
    env: dict[str, str],
    queues: str = "compliance,annotation,maintenance",
    beat: bool = False,
) -> Process:
    """A real Celery worker (prefork, one child) for the test database."""
    prefix = env["APPLIANCE_QUEUE_PREFIX"]
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "1",
        "-Q",
        ",".join(prefix + queue for queue in queues.split(",")),
        "--hostname",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        command += ["--beat", "--schedule", str(LOG_DIR / f"{name}-beat-schedule")]
    process = spawn(name, command, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"worker {name} exited:\n{process.log_tail()}")
        if "ready." in process.log.read_text(errors="replace"):
            return process
        time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"worker {name} did not start:\n{process.log_tail()}")
