"""deploy/: what can be checked of the compose file, the image and the CI workflows on a
machine without a Docker engine. Each test reads the files as the tools would (YAML, the
Dockerfile's instructions, compose's ${VAR} interpolation)."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_TEXT = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE = (DEPLOY / ".env.example").read_text(encoding="utf-8")
DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
_SECRET = re.compile(r"PASSWORD|SECRET|AUTH")


def env_example() -> dict[str, str]:
    return dict(line.split("=", 1) for line in ENV_EXAMPLE.splitlines()
                if line and not line.startswith("#"))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, and $$ for $."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg or ""
    return _VAR.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def strings(node: Any) -> list[str]:
    """Every string value and key of the parsed compose file (comments are not values)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in (*strings(k), *strings(v))]
    if isinstance(node, list):
        return [t for v in node for t in strings(v)]
    return [node] if isinstance(node, str) else []


VALUES = "\n".join(strings(COMPOSE))


def one_shot(name: str) -> bool:
    return SERVICES[name].get("restart") == "no"


# ----------------------------------------------------------------- services


def test_the_stack_has_every_part() -> None:
    assert set(SERVICES) == {"postgres", "redis", "minio", "elasticsearch", "init", "web", "worker"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_long_running_service_has_a_health_check(name: str) -> None:
    if one_shot(name):  # init exits; the others wait for its successful exit instead
        assert "healthcheck" not in SERVICES[name]
        return
    check = SERVICES[name].get("healthcheck")
    assert check and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
    assert SERVICES[name].get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_wait_for_health_or_for_a_finished_one_shot(name: str) -> None:
    deps = SERVICES[name].get("depends_on", {})
    assert isinstance(deps, dict), f"{name}: depends_on as a list waits for nothing"
    for dep, how in deps.items():
        wanted = "service_completed_successfully" if one_shot(dep) else "service_healthy"
        assert how == {"condition": wanted}, f"{name} -> {dep}: {how}"


def test_web_workers_and_init_wait_for_every_backend_and_run_the_one_image() -> None:
    backends = {"postgres", "redis", "minio", "elasticsearch"}
    for name in ("init", "web", "worker"):
        svc = SERVICES[name]
        assert backends <= set(svc["depends_on"])
        assert svc["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert svc["image"] == SERVICES["web"]["image"]
        assert svc["command"][0] == "dangan"
    assert {"init"} <= set(SERVICES["web"]["depends_on"]) and "init" in SERVICES["worker"]["depends_on"]
    assert SERVICES["web"]["command"][:2] == ["dangan", "serve"] and "--no-workers" in SERVICES["web"]["command"]
    assert SERVICES["worker"]["command"] == ["dangan", "worker"]
    assert SERVICES["init"]["command"] == ["dangan", "init"]


def test_workers_scale() -> None:
    """`--scale worker=N` needs no fixed name and no published port."""
    worker = SERVICES["worker"]
    assert not {"container_name", "ports", "hostname"} & set(worker)
    assert worker["stop_signal"] == "SIGINT"  # Huey's graceful stop


def test_data_lives_in_named_volumes_and_web_and_workers_share_none() -> None:
    declared = set(COMPOSE["volumes"])
    mounts = {name: [v.split(":")[0] for v in svc.get("volumes", [])] for name, svc in SERVICES.items()}
    for name, sources in mounts.items():
        assert set(sources) <= declared, f"{name} mounts something other than a named volume: {sources}"
    used = [s for sources in mounts.values() for s in sources]
    assert sorted(used) == sorted(declared), "a volume is unused or mounted by two services"
    assert mounts["worker"] == [] and mounts["init"] == []
    assert {"postgres": "pg-data", "redis": "redis-data", "minio": "minio-data",
            "elasticsearch": "es-data", "web": "web-data"} == {n: s[0] for n, s in mounts.items() if s}


def test_redis_persists_and_elasticsearch_is_a_secured_single_node() -> None:
    assert "--appendonly yes" in " ".join(SERVICES["redis"]["command"])
    es = SERVICES["elasticsearch"]["environment"]
    assert es["discovery.type"] == "single-node" and es["xpack.security.enabled"] == "true"
    assert es["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")
    assert "ports" not in SERVICES["elasticsearch"]  # only the web app is published


# ----------------------------------------------------------------- secrets and .env.example


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, svc in SERVICES.items():
        env = svc.get("environment", {})
        for key, value in env.items():
            if _SECRET.search(key):
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*)?\}", str(value)), f"{name}.{key} is inline"
    # Credentials inside URLs are variables too.
    for user, password in re.findall(r"://([^:/@\s]*):([^@\s]+)@", VALUES):
        assert password.startswith("${"), f"a password written in a URL: {user}:…"
    # Health checks read passwords from the container's environment ($$VAR), not from here.
    for svc in SERVICES.values():
        test = " ".join(svc.get("healthcheck", {}).get("test", []))
        assert not re.search(r"(?<!\$)\$\{?\w*PASSWORD", test)


def test_every_variable_of_the_compose_file_is_in_env_example_and_back() -> None:
    used = set(_VAR.findall(VALUES.replace("$$", "")))
    names = {u[0] for u in used}
    example = env_example()
    assert names - set(example) == set(), "used by compose.yaml, missing from .env.example"
    assert set(example) - names == set(), "in .env.example, used nowhere in compose.yaml"
    for name, op, default in used:
        if op == ":-":
            assert example[name] == default, f"{name}: compose's default {default!r} != .env.example's"
        if _SECRET.search(name):
            assert op in ("", ":?") and example[name] == "", f"{name} must be given, not defaulted"


def test_new_env_fills_every_secret_and_keeps_the_file_private(tmp_path: Path) -> None:
    out = tmp_path / ".env"
    subprocess.run(["sh", str(DEPLOY / "new-env.sh"), str(out)], check=True, capture_output=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    env = dict(line.split("=", 1) for line in out.read_text().splitlines()
               if line and not line.startswith("#"))
    assert set(env) == set(env_example())
    secrets = {k: v for k, v in env.items() if _SECRET.search(k)}
    assert len(secrets) == 5 and all(re.fullmatch(r"[0-9a-f]{64}", v) for v in secrets.values())
    assert len(set(secrets.values())) == 5
    again = subprocess.run(["sh", str(DEPLOY / "new-env.sh"), str(out)], capture_output=True, text=True)
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert dict(line.split("=", 1) for line in out.read_text().splitlines()
                if line and not line.startswith("#")) == env


def test_the_settings_the_stack_passes_are_accepted_by_the_archive(tmp_path: Path) -> None:
    """Resolve the app's environment as compose would from a generated .env: every URL
    parses, and Settings takes every value."""
    from sqlalchemy.engine import make_url

    from storage.factory import parse_s3_url

    out = tmp_path / ".env"
    subprocess.run(["sh", str(DEPLOY / "new-env.sh"), str(out)], check=True, capture_output=True)
    dotenv = dict(line.split("=", 1) for line in out.read_text().splitlines()
                  if line and not line.startswith("#"))
    app_env = {k: interpolate(str(v), dotenv) for k, v in SERVICES["web"]["environment"].items()}
    assert app_env == {k: interpolate(str(v), dotenv)
                       for k, v in SERVICES["worker"]["environment"].items()}
    settings = Settings.from_env({**app_env, "DANGAN_DATA": str(tmp_path / "data")})
    assert make_url(settings.database_url).password == dotenv["POSTGRES_PASSWORD"]
    s3 = parse_s3_url(settings.storage_url)
    assert (s3["endpoint"], s3["bucket"], s3["secure"]) == ("minio:9000", "dangan", False)
    assert s3["secret_key"] == dotenv["MINIO_ROOT_PASSWORD"]
    assert settings.queue_url == f"redis://:{dotenv['REDIS_PASSWORD']}@redis:6379/0"
    assert settings.search_url == f"http://elastic:{dotenv['ELASTIC_PASSWORD']}@elasticsearch:9200"
    assert settings.secret_key == dotenv["DANGAN_SECRET_KEY"]
    default = Settings.from_env({"DANGAN_DATA": str(tmp_path / "data")})
    for field in ("max_upload_bytes", "max_pages_per_file", "max_pages_per_upload",
                  "max_decoded_bytes_per_file", "max_decoded_bytes_per_upload", "ocr_timeout",
                  "web_threads", "proxy_hops", "secure_cookies", "public_url"):
        assert getattr(settings, field) == getattr(default, field), field
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):  # compose refuses to start
        interpolate(SERVICES["web"]["environment"]["DANGAN_DATABASE_URL"], {})


def test_the_elasticsearch_url_with_its_password_reaches_the_client() -> None:
    """The password in DANGAN_SEARCH_URL becomes the client's basic auth."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch("http://elastic:pw-123@elasticsearch:9200")
    node = client.transport.node_pool.all()[0]
    assert node.config.host == "elasticsearch" and node.config.port == 9200
    assert node.config.headers["authorization"].startswith("Basic ")
    client.close()


# ----------------------------------------------------------------- the image


def _run_debs() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    m = re.search(r"^RUN_DEBS\s*:?=\s*(.+)$", makefile, re.M)
    assert m
    return m.group(1).split()


def test_the_image_installs_the_debian_packages_of_make_run() -> None:
    install = re.search(r"apt-get install[^&]*", DOCKERFILE.replace("\\\n", " "))
    assert install
    packages = {w for w in install.group(0).split() if not w.startswith("-")} - {"apt-get", "install"}
    assert set(_run_debs()) == packages
    assert "tesseract --list-langs | grep -qx chi_sim" in DOCKERFILE


def test_the_image_is_debian_python_311_and_runs_as_its_own_user() -> None:
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", DOCKERFILE, re.M)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "useradd" in DOCKERFILE and "OMP_THREAD_LIMIT=1" in DOCKERFILE


def test_the_image_copies_every_package_and_installs_it_with_pip() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"^include = \[(.+)\]", pyproject, re.M)
    assert include
    packages = {p.strip(' "*') for p in include.group(1).split(",")}
    copied = set(re.findall(r"^COPY (\w+) \1$", DOCKERFILE, re.M))
    assert packages == copied == {"service", "indexer", "storage", "web", "cli"}
    assert re.search(r"^COPY pyproject.toml README.md", DOCKERFILE, re.M)
    assert "pip install --no-cache-dir ." in DOCKERFILE
    assert "compile_translations()" in DOCKERFILE  # the package dir is read-only at run time


def test_the_production_server_is_waitress_with_threads() -> None:
    source = (ROOT / "web" / "server.py").read_text(encoding="utf-8")
    assert "from waitress" in source and "threads=threads" in source
    setup = (ROOT / "cli" / "setup_cmds.py").read_text(encoding="utf-8")
    assert "threads=settings.web_threads" in setup and "processes=processes" in setup


# ----------------------------------------------------------------- Elasticsearch's version


def _es_image_version(image: str) -> Version:
    repo, _, tag = image.rpartition(":")
    assert repo == "docker.elastic.co/elasticsearch/elasticsearch"
    return Version(tag)


def test_the_elasticsearch_server_matches_the_python_client() -> None:
    """Same major as the client pinned in pyproject.toml, a minor no older than the client
    installed (clients talk to servers of their major at their minor or newer)."""
    from importlib.metadata import version

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"elasticsearch(>=[^"]+)"', pyproject)
    assert pin, "no elasticsearch pin in pyproject.toml"
    spec = SpecifierSet(pin.group(1))
    server = _es_image_version(SERVICES["elasticsearch"]["image"])
    client = Version(version("elasticsearch"))
    assert client in spec
    assert server in spec, f"server {server} outside the client's pin {spec}"
    assert (server.major, server.minor) >= (client.major, client.minor)


def test_the_ci_workflow_runs_the_search_suite_against_that_server() -> None:
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "elasticsearch.yml").read_text())
    job = flow["jobs"]["search-contract"]
    es = job["services"]["elasticsearch"]
    assert es["image"] == SERVICES["elasticsearch"]["image"]
    assert es["env"]["xpack.security.enabled"] == "true" and "--health-cmd" in es["options"]
    steps = {s.get("name", ""): s for s in job["steps"]}
    run = next(s for n, s in steps.items() if "Search contract" in n)
    url = run["env"]["DANGAN_TEST_ELASTICSEARCH_URL"]
    assert url.startswith("http://elastic:") and url.endswith("@127.0.0.1:9200")
    assert "pytest" in run["run"] and "tests/search" in run["run"]
    assert "DANGAN_TEST_ELASTICSEARCH_URL" in run["run"]  # a skipped half fails the job
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"docker\.elastic\.co/elasticsearch/elasticsearch:[\w.]+", readme))
    assert shown == {SERVICES["elasticsearch"]["image"]}, "README's test server differs"


def test_the_search_suite_stays_gated_here() -> None:
    conftest = (ROOT / "tests" / "search" / "conftest.py").read_text(encoding="utf-8")
    assert 'ES_ENV = "DANGAN_TEST_ELASTICSEARCH_URL"' in conftest
    assert "url = os.environ.get(ES_ENV)\n    if not url:\n        pytest.skip(" in conftest


def test_the_stack_workflow_brings_everything_up_with_one_command() -> None:
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    runs = " ".join(s.get("run", "") for s in flow["jobs"]["stack"]["steps"])
    assert "sh deploy/new-env.sh" in runs and "up -d --build --wait" in runs
    assert "--scale worker=2" in runs and "down -v" in runs


# ----------------------------------------------------------------- the operations guide


def test_the_operations_guide_uses_only_commands_that_exist() -> None:
    from cli import cli

    guide = (DEPLOY / "OPERATIONS.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", guide, re.S))
    used = set(re.findall(r"\bdangan (\w+)", blocks))
    assert used and used <= set(cli.commands), used - set(cli.commands)
    for name in SERVICES:
        assert f"`{name}`" in guide, f"the guide does not describe {name}"
    for section in ("## Start", "## First administrator", "## Upgrade", "## Scale",
                    "## Back up", "## Restore", "## Rotate secrets", "## Move to new disks",
                    "## Move up from an embedded archive"):
        assert section in guide
    assert {"backup", "restore"} <= used  # backups by the archive itself (#14.3)
    assert "migrate" in used  # moving up from the embedded archive (#14.4)
    for secret in (k for k in env_example() if _SECRET.search(k)):
        assert f"`{secret}`" in guide, f"how to rotate {secret} is not said"
