"""The README documents what a newcomer can set on `make run`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_names_every_setting_of_make_run() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no run target in the Makefile"
    settable = set(re.findall(r"^([A-Z_]+) \?=", makefile, re.M))
    used = {v for v in re.findall(r"\$\((\w+)\)", recipe.group(1)) if v in settable} - {"VENV"}
    assert {"HOST", "PORT"} <= used
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in sorted(used):
        assert re.search(rf"make run [^`\n]*\b{name}=", readme), f"README does not show make run {name}=…"


def test_readme_map_names_every_module_of_service_and_indexer() -> None:
    """The map of the code lists each module of the two big packages by its file name."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Map of the code"):readme.index("How a scan flows")]
    missing = [str(p.relative_to(ROOT))
               for pkg in ("service", "service/access", "service/jobs", "indexer",
                           "indexer/search")
               for p in sorted((ROOT / pkg).glob("*.py"))
               if p.name != "__init__.py" and f"`{p.name}`" not in table]
    assert missing == [], missing
