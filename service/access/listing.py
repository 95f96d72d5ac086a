"""Titles in lists of what the paper side holds (a box's paperwork, the two-set report,
destruction): every item is named there by its 档号, its title withheld from a reader who
may not look it up.
"""

from __future__ import annotations

from indexer.search.types import Visibility

from ..models import ArchiveItem
from .visibility import visible_under

#: In place of the title of an item that a list of the paper side names, by its 档号, to a
#: reader who may not look it up (绝密): a box's paperwork, the two-set report, destruction.
WITHHELD_TITLE = "（题名不以电子方式提供）"


def listed_title(vis: Visibility, item: ArchiveItem) -> str:
    """An item's title in a list of what the paper side holds (every item is named there,
    by 档号): withheld unless `vis` may look the item up."""
    return item.title if visible_under(vis, item) else WITHHELD_TITLE


def listed_level_title(vis: Visibility, secrecy: str, title: str) -> str:
    """The title of a record that outlives its item (the destruction register), in a list
    read by the archive's roles: withheld where its 密级 is beyond what they look up."""
    return title if secrecy in vis.secrecy else WITHHELD_TITLE
