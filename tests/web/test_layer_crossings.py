"""An uploaded file's path from the request to the index only ever calls downward (#9).

The import contracts (import-linter) say which package may import which; this test watches
the calls themselves. Every call into the project's code is attributed to the nearest
project frame below it on the stack (library frames in between, such as Flask, SQLAlchemy or
Huey, are skipped), and a call from a lower layer into a higher one is an upward crossing:
a callback, a hook or a generator handed down that calls back up.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
#: Layers from the top; indexer and storage are side by side and never call each other.
RANK = {"cli": 3, "web": 2, "service": 1, "indexer": 0, "storage": 0}
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


class Crossings:
    """The (caller package, callee package) pairs seen, with one example call of each."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], str] = {}
        self._packages: dict[str, str | None] = {}

    def package(self, filename: str) -> str | None:
        pkg = self._packages.get(filename, "")
        if pkg == "":
            try:
                top = Path(filename).resolve().relative_to(ROOT).parts[0]
            except ValueError:
                top = None
            pkg = top if top in RANK else None
            self._packages[filename] = pkg
        return pkg

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = self.package(frame.f_code.co_filename)
        if callee is None:
            return
        below = frame.f_back
        while below is not None and self.package(below.f_code.co_filename) is None:
            below = below.f_back
        if below is None:
            return
        caller = self.package(below.f_code.co_filename)
        if caller is not None and caller != callee:
            self.pairs.setdefault((caller, callee), f"{below.f_code.co_qualname} -> "
                                                    f"{frame.f_code.co_qualname}")

    def upward(self) -> dict[tuple[str, str], str]:
        return {(a, b): call for (a, b), call in self.pairs.items()
                if RANK[b] >= RANK[a]}


@contextmanager
def watched() -> Iterator[Crossings]:
    seen = Crossings()
    hook: Callable[..., Any] = seen.profile
    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]  # None removes the hook


def _scan() -> bytes:
    img = Image.new("L", (900, 300), 255)
    ImageDraw.Draw(img).text((40, 100), "购销合同 甲方 乙方", fill=0,
                             font=ImageFont.truetype(FONT, 64))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_an_upload_goes_down_from_request_to_index(archive, client, h):
    from service.models import ArchiveItem
    from service.vocab import ItemStatus

    h.login(client, "arc")
    token = h.csrf(client, "/upload")
    data = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
            "secrecy": "内部", "title": "分层测试合同",
            "files": [(io.BytesIO(_scan()), "contract.png")]}
    with watched() as request:
        r = client.post("/api/v1/items", data=data, headers={"X-CSRFToken": token})
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    item_id = r.get_json()["id"]
    assert request.upward() == {}
    # web -> indexer: the message ids' marker (indexer.messages.N_), downward too
    assert {("web", "service"), ("service", "indexer"), ("service", "storage")} \
        <= set(request.pairs) <= {("web", "service"), ("web", "indexer"),
                                  ("service", "indexer"), ("service", "storage")}, request.pairs

    huey = archive.queue.huey
    with watched() as job:  # what a worker does: take the task off the queue and run it
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
    assert job.upward() == {}
    assert set(job.pairs) == {("service", "indexer"), ("service", "storage")}, job.pairs

    with archive.session() as s:
        assert s.scalar(select(ArchiveItem.status).where(ArchiveItem.id == item_id)) \
            == ItemStatus.READY
    hits = client.get("/api/v1/search", query_string={"q": "购销合同"}).get_json()["hits"]
    assert [hit["id"] for hit in hits] == [item_id]
