"""Translations: compile the .po catalogues to .mo at start-up when missing or stale."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parent / "translations"
log = logging.getLogger("dangan.web")


def compile_translations(root: Path = TRANSLATIONS) -> list[Path]:
    """Write messages.mo beside every messages.po that is newer; returns what was written."""
    written = []
    for po in root.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with open(po, "rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            tmp = mo.with_suffix(".mo.tmp")
            with open(tmp, "wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)
            written.append(mo)
        except OSError as exc:  # a read-only install: run with the shipped catalogue
            log.warning("cannot compile %s: %s", po, exc)
    return written
