"""Settings: every environment variable the code reads is in README's one table (and every
one there is read), none is read at import time, and the values are checked on start."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from service.config import Settings
from service.errors import BadSetting

ROOT = Path(__file__).resolve().parents[2]
#: The packages that make up the product (pyproject's packages.find); tests and bench are not.
PACKAGES = ("service", "indexer", "storage", "web", "cli")
CONFIG = ROOT / "service" / "config.py"
_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def documented_settings(readme: str) -> set[str]:
    """The variables in the first column of README's "Configuration (environment)" table."""
    start = readme.index("## Configuration (environment)")
    section = readme[start:readme.index("\n## ", start + 1)]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, re.M))


def _is_os_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ"
            and isinstance(node.value, ast.Name) and node.value.id == "os") or (
        isinstance(node, ast.Name) and node.id == "environ")


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class EnvReads(ast.NodeVisitor):
    """Each read of the process environment by name: (name or None when computed, line,
    whether it runs at import, i.e. outside any function body)."""

    def __init__(self, config_module: bool = False) -> None:
        self.reads: list[tuple[str | None, int, bool]] = []
        self._depth = 0  # function bodies we are in
        self._config = config_module

    def _read(self, key: ast.AST | None, node: ast.AST) -> None:
        self.reads.append((_const(key), getattr(node, "lineno", 0), self._depth == 0))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Decorators and default values run when the function is defined (at import).
        if not isinstance(node, ast.Lambda):
            for deco in node.decorator_list:
                self.visit(deco)
            if node.returns:
                self.visit(node.returns)
        self.visit(node.args)
        self._depth += 1
        for stmt in (node.body if isinstance(node.body, list) else [node.body]):
            self.visit(stmt)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and _is_os_environ(func.value):
            self._read(node.args[0] if node.args else None, node)
        elif (isinstance(func, ast.Attribute) and func.attr == "getenv"
              and isinstance(func.value, ast.Name) and func.value.id == "os") or (
                isinstance(func, ast.Name) and func.id == "getenv"):
            self._read(node.args[0] if node.args else None, node)
        elif self._config:  # the config module reads a copy: env.get("X"), _count(env, "X")
            for arg in node.args:
                name = _const(arg)
                if name and _NAME.match(name):
                    self._read(arg, node)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
            self._read(node.slice, node)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and _is_os_environ(right):
                self._read(node.left, node)
        self.generic_visit(node)


def env_reads(source: str, config_module: bool = False) -> list[tuple[str | None, int, bool]]:
    visitor = EnvReads(config_module)
    visitor.visit(ast.parse(source))
    return visitor.reads


@functools.cache
def all_reads() -> dict[str, list[str]]:
    """Variable name (or "<computed>") -> where it is read, over the product's code."""
    found: dict[str, list[str]] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for name, line, at_import in env_reads(path.read_text(encoding="utf-8"),
                                                   path == CONFIG):
                where = f"{path.relative_to(ROOT)}:{line}" + (" (at import)" if at_import else "")
                found.setdefault(name or "<computed>", []).append(where)
    return found


# ----------------------------------------------------------------- the scanner itself


def test_the_scanner_sees_every_way_of_reading_the_environment() -> None:
    source = '''
import os
from os import environ, getenv
A = os.environ.get("AT_IMPORT")
def f(name):
    os.getenv("BY_GETENV"); getenv("BARE_GETENV"); environ.get("BARE_ENVIRON")
    x = os.environ["BY_INDEX"]
    if "BY_IN" not in os.environ:
        os.environ["WRITTEN_ONLY"] = "1"
    os.environ.setdefault("SET_ONLY", "1")
    request.environ.get("WSGI_KEY")
    return os.environ.get(name)
def g(default=os.environ.get("IN_DEFAULT")):
    return lambda: os.environ.pop("IN_LAMBDA", None)
'''
    reads = {(name, at_import) for name, _, at_import in env_reads(source)}
    assert reads == {("AT_IMPORT", True), ("BY_GETENV", False), ("BARE_GETENV", False),
                     ("BARE_ENVIRON", False), ("BY_INDEX", False), ("BY_IN", False),
                     (None, False), ("IN_DEFAULT", True), ("IN_LAMBDA", False)}
    config = 'def from_env(env):\n    return env.get("DANGAN_X"), _count(env, "DANGAN_Y", 1), env.get("lower")'
    assert {n for n, _, _ in env_reads(config, config_module=True)} == {"DANGAN_X", "DANGAN_Y"}


def test_the_table_parser_reads_the_first_column_only() -> None:
    readme = ("## Configuration (environment)\n\n| variable | default |\n| --- | --- |\n"
              "| `DANGAN_A` | `DANGAN_NOT_A_ROW` |\n| `TESSDATA_PREFIX` | x |\n\n## Next\n"
              "| `DANGAN_LATER` | x |\n")
    assert documented_settings(readme) == {"DANGAN_A", "TESSDATA_PREFIX"}


# ----------------------------------------------------------------- the code against the table


def test_every_setting_read_is_documented_and_every_documented_one_is_read() -> None:
    reads = all_reads()
    documented = documented_settings((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "<computed>" not in reads, (
        f"the environment read by a computed name at {reads.get('<computed>')}: read each "
        "variable by its literal name so it can be checked against README's table")
    undocumented = {name: where for name, where in reads.items() if name not in documented}
    assert undocumented == {}, (
        f"read but not in README's Configuration table: {undocumented}")
    assert documented - set(reads) == set(), "documented in README but read nowhere"
    assert len(documented) >= 20  # the parser found the table


def test_nothing_reads_the_environment_at_import_time() -> None:
    at_import = [w for where in all_reads().values() for w in where if w.endswith("(at import)")]
    assert at_import == []


def test_the_dangan_settings_are_read_only_by_the_config_module() -> None:
    """The archive's own settings are read once, into Settings; only the command line's
    language and its "was a catalogue named?" check read the environment themselves."""
    elsewhere = {name: [w for w in where if not w.startswith("service/config.py")]
                 for name, where in all_reads().items() if name.startswith("DANGAN_")}
    elsewhere = {name: where for name, where in elsewhere.items() if where}
    assert set(elsewhere) == {"DANGAN_LANG", "DANGAN_DATABASE_URL"}, elsewhere
    assert all(w.startswith("cli/common.py:") for where in elsewhere.values() for w in where)


# ----------------------------------------------------------------- the values


def test_defaults_are_the_embedded_archive(tmp_path: Path) -> None:
    s = Settings.from_env({"DANGAN_DATA": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    assert s.storage_url == str(tmp_path / "objects")
    assert s.queue_url == f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    assert (s.search_url, s.queue_name, s.web_threads, s.proxy_hops) == ("sqlite", "dangan", 1, 0)
    assert s.secure_cookies is False and s.secret_key == "" and s.ocr_timeout == 180.0
    assert s.workers >= 1


def test_production_values_are_taken_as_given(tmp_path: Path) -> None:
    key = "k" * 64
    s = Settings.from_env({
        "DANGAN_DATA": str(tmp_path), "DANGAN_DATABASE_URL": "postgresql+psycopg://u:p@db/d",
        "DANGAN_QUEUE_URL": "redis://:pw@redis:6379/0", "DANGAN_WORKERS": "3",
        "DANGAN_WEB_THREADS": "16", "DANGAN_OCR_TIMEOUT": "90.5", "DANGAN_SECURE_COOKIES": "1",
        "DANGAN_PROXY_HOPS": "1", "DANGAN_SECRET_KEY": key,
        "DANGAN_PUBLIC_URL": "https://dangan.example.com/"})
    assert (s.workers, s.web_threads, s.ocr_timeout, s.proxy_hops) == (3, 16, 90.5, 1)
    assert s.secure_cookies is True and s.secret_key == key
    assert s.public_url == "https://dangan.example.com"
    assert key not in repr(s)  # settings may be logged; the secret is not


@pytest.mark.parametrize(("name", "raw"), [
    ("DANGAN_WORKERS", "abc"), ("DANGAN_WORKERS", "0"), ("DANGAN_WEB_THREADS", "-2"),
    ("DANGAN_PROXY_HOPS", "-1"), ("DANGAN_PROXY_HOPS", "one"), ("DANGAN_OCR_TIMEOUT", "0"),
    ("DANGAN_OCR_TIMEOUT", "nan"), ("DANGAN_SECURE_COOKIES", "maybe"),
    ("DANGAN_SECRET_KEY", "short"), ("DANGAN_MAX_UPLOAD_BYTES", "1e9"),
])
def test_a_bad_value_is_refused_naming_the_variable(tmp_path: Path, name: str, raw: str) -> None:
    with pytest.raises(BadSetting) as caught:
        Settings.from_env({"DANGAN_DATA": str(tmp_path), name: raw})
    assert caught.value.msg.params["name"] == name


def test_the_web_app_takes_cookies_proxies_and_key_from_the_settings(tmp_path: Path) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from service.archive import Archive
    from web.app import create_app

    key = "s" * 40
    app = create_app(Archive(Settings.from_env({
        "DANGAN_DATA": str(tmp_path), "DANGAN_SECURE_COOKIES": "yes",
        "DANGAN_PROXY_HOPS": "1", "DANGAN_SECRET_KEY": key})))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.secret_key == key and not (tmp_path / "secret.key").exists()
    assert isinstance(app.wsgi_app, ProxyFix)

    plain = create_app(Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "p")})))
    assert not plain.config["SESSION_COOKIE_SECURE"] and not isinstance(plain.wsgi_app, ProxyFix)
    assert plain.secret_key == (tmp_path / "p" / "secret.key").read_text()
