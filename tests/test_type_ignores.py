"""No `# type: ignore` without its error code and, beside it, the reason (issue 9.6)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "web", "service", "indexer", "storage", "tests", "bench")
EXPLAINED = re.compile(r"# type: ignore\[[-a-z, ]+\]  # \S")


def test_every_type_ignore_says_why() -> None:
    bare = [f"{path.relative_to(ROOT)}:{n}"
            for pkg in PACKAGES for path in sorted((ROOT / pkg).rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if path != Path(__file__).resolve()
            and "# type: ignore" in line and not EXPLAINED.search(line)]
    assert bare == [], bare
