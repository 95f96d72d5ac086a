"""A migration does what it did when it was written: none imports the project's live code
(import-linter does not see the migration scripts, which are loaded by Alembic by path)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from service.migrate import MIGRATIONS

PROJECT = {"cli", "web", "service", "indexer", "storage"}
SCRIPTS = sorted((MIGRATIONS / "versions").glob("*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else node.module or "")
    return names


def test_there_are_migrations() -> None:
    assert len(SCRIPTS) >= 6


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_a_migration_imports_no_live_code(path: Path) -> None:
    live = {n for n in _imported(path) if n == "." or n.split(".")[0] in PROJECT}
    assert not live, (f"{path.name} imports {sorted(live)}: write what it needs into it (the "
                      "search index is re-analysed to the running analyzer by service.migrate)")
