"""Resource caps and fair scheduling (#8.17).

A 1,000-frame TIFF and a PDF whose stream inflates to 1 GiB are refused quickly, in
bounded memory, before anything is stored; pages are counted without being decoded; the
caps come from the settings; and page tasks are queued so that a small upload's page runs
before the tail of a large one, on both queue storages (SQLite and Redis).
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest
from machine_services import REDIS_URL
from PIL import Image
from scanfactory import (
    render_page,
    write_many_frame_tiff,
    write_pdf_stream_bomb,
    write_png,
    write_tiff,
)

from indexer.errors import IngestError
from indexer.page_processor import measure
from service.config import Settings
from service.errors import InvalidInput
from service.ingest import IngestRequest, ingest
from service.jobs.queue import JobQueue, build_huey
from service.models import ArchiveItem
from tests.queued import QueuedPages
from web.i18n import bilingual


@pytest.fixture(scope="module")
def pdf_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf_stream_bomb(tmp_path_factory.mktemp("bomb") / "bomb.pdf")


@pytest.fixture
def queued(archive) -> QueuedPages:
    return QueuedPages(archive)


def _request(files: list[Path], title: str = "卷宗") -> IngestRequest:
    return IngestRequest(files=files, fonds="J001", category="HT", year=2024, retention="D30",
                         secrecy="内部", title=title)


def _refused(archive, files: list[Path]) -> tuple[str, float]:
    """Ingest, expecting a refusal: (message in Chinese and English, as the command line and
    the API show it; seconds taken); nothing stored or registered."""
    start = time.monotonic()
    with pytest.raises(InvalidInput) as exc:
        ingest(archive, _request(files))
    took = time.monotonic() - start
    with archive.session() as s:
        assert s.query(ArchiveItem).count() == 0
    assert not any(o.key.startswith("sha256/") for o in archive.store.list())  # nothing stored
    return bilingual(exc.value.msg), took


def _peak_memory_of_measuring(path: Path, settings: Settings) -> int:
    """Peak Python allocations while counting a file the way the upload does."""
    from indexer.document import Limits

    tracemalloc.start()
    try:
        with pytest.raises(IngestError):
            measure(path, Limits(max_pages=settings.max_pages_per_file,
                                 max_decoded_bytes=settings.max_decoded_bytes_per_file))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_thousand_frame_tiff_is_refused_quickly(archive, queued, tmp_path: Path) -> None:
    tiff = write_many_frame_tiff(tmp_path / "many.tif")
    assert tiff.stat().st_size < 240_000
    message, took = _refused(archive, [tiff])
    assert "1000 页" in message and "1000 pages" in message and "500" in message
    assert took < 5
    assert _peak_memory_of_measuring(tiff, archive.settings) < 64 * 2**20
    assert not queued


def test_pdf_stream_bomb_is_refused_quickly_in_bounded_memory(archive, queued,
                                                              pdf_bomb: Path) -> None:
    assert pdf_bomb.stat().st_size < 2 * 2**20
    message, took = _refused(archive, [pdf_bomb])
    assert "解压炸弹" in message and "decompression bomb" in message
    assert took < 10
    assert _peak_memory_of_measuring(pdf_bomb, archive.settings) < 64 * 2**20
    assert not queued


def test_pages_sharing_one_inflating_stream_are_refused_quickly(archive, queued,
                                                                tmp_path: Path) -> None:
    """500 pages drawing one 200 MiB stream: the stream is inflated once, not per page."""
    shared = write_pdf_stream_bomb(tmp_path / "shared.pdf", 200 * 2**20, pages=500)
    assert shared.stat().st_size < 512 * 2**10
    message, took = _refused(archive, [shared])
    assert "解压炸弹" in message and "GiB" in message
    assert took < 8  # inflating it for every page up to the 8 GiB cap took over 20 s


def test_a_costly_single_pdf_page_is_not_rendered_in_the_request(archive, queued,
                                                                 tmp_path: Path) -> None:
    """A one-page PDF drawing millions of rectangles is counted, not drawn, by the upload:
    its 60 MiB of operators took pdfium 10 s and 1.7 GB to draw even at 20 dpi."""
    costly = write_pdf_stream_bomb(tmp_path / "rects.pdf", 60 * 2**20, unit=b"0 0 1 1 re f\n")
    assert costly.stat().st_size < 512 * 2**10
    start = time.monotonic()
    counted = measure(costly)
    assert time.monotonic() - start < 3
    assert counted.format == "pdf" and counted.pages == 1
    res = ingest(archive, _request([costly], title="矢量图"))  # a page worker draws it later
    assert res.pages == 1 and res.status == "processing" and queued


def test_a_single_image_is_proved_readable_holding_one_copy_of_its_pixels(tmp_path: Path) -> None:
    """The upload decodes a one-page image to prove it reads; that costs its pixels once,
    not twice (a 400 KB PNG of 100 megapixels held 800 MB in the request)."""
    import subprocess
    import sys

    png = tmp_path / "large.png"
    Image.new("RGBA", (6000, 6000), "white").save(png)  # 144 MB of pixels, a few KB of file
    probe = (  # VmHWM: this process's own peak (ru_maxrss would carry pytest's across exec)
        "import re, sys\n"
        "from indexer.page_processor import measure\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024\n"
        "before = peak()\n"
        "counted = measure(sys.argv[1])\n"
        "print(counted.decoded_bytes, peak() - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(png)], capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    decoded, grew = int(out[0]), int(out[1])
    assert decoded == 6000 * 6000 * 4
    assert grew < 1.5 * decoded, f"peak grew by {grew / 2**20:.0f} MiB"


def test_pages_are_counted_without_decoding_them(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = render_page(["第一页"], size=(300, 200))
    tiff = write_tiff(tmp_path / "vol.tif", [tiny] * 5)

    def no_decode(self):
        raise AssertionError("a page was decoded in the request")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    counted = measure(tiff)
    assert counted.format == "tiff" and counted.pages == 5
    assert counted.decoded_bytes == 5 * 300 * 200 * len(tiny.getbands())


def test_caps_are_settings(archive, queued, tmp_path: Path) -> None:
    env = {"DANGAN_DATA": str(tmp_path), "DANGAN_MAX_PAGES_PER_FILE": "3",
           "DANGAN_MAX_PAGES_PER_UPLOAD": "4", "DANGAN_MAX_DECODED_BYTES_PER_FILE": "100000",
           "DANGAN_MAX_DECODED_BYTES_PER_UPLOAD": "150000"}
    settings = Settings.from_env(env)
    assert (settings.max_pages_per_file, settings.max_pages_per_upload,
            settings.max_decoded_bytes_per_file, settings.max_decoded_bytes_per_upload) == (
        3, 4, 100_000, 150_000)
    default = Settings.from_env({"DANGAN_DATA": str(tmp_path)})
    assert default.max_pages_per_file == 500 and default.max_pages_per_upload == 2000
    with pytest.raises(ValueError, match="DANGAN_MAX_PAGES_PER_FILE"):
        Settings.from_env({**env, "DANGAN_MAX_PAGES_PER_FILE": "0"})

    small = render_page(["一页"], size=(100, 100)).convert("RGB")  # 30,000 decoded bytes
    archive.settings = dataclasses.replace(archive.settings, max_pages_per_file=3,
                                           max_pages_per_upload=4,
                                           max_decoded_bytes_per_file=100_000,
                                           max_decoded_bytes_per_upload=150_000)
    four = write_tiff(tmp_path / "four.tif", [small] * 4)
    assert "3" in _refused(archive, [four])[0]  # pages per file
    big = write_png(tmp_path / "big.png", render_page(["大页"], size=(300, 200)).convert("RGB"))
    assert "GiB" in _refused(archive, [big])[0]  # decoded bytes per file (180,000)
    threes = [write_tiff(tmp_path / f"t{i}.tif", [small.rotate(90 * i)] * 3)
              for i in range(2)]
    assert "6" in _refused(archive, threes)[0]  # pages per upload
    twos = [write_tiff(tmp_path / f"d{i}.tif", [small.rotate(90 * i)] * 2)
            for i in range(3)]
    message = _refused(archive, twos)[0]  # 6 pages is over 4 too; then the bytes
    assert "4" in message
    archive.settings = dataclasses.replace(archive.settings, max_pages_per_upload=100)
    assert "GiB" in _refused(archive, twos)[0]  # 180,000 decoded bytes per upload
    res = ingest(archive, _request(twos[:2]))  # 4 pages, 120,000 bytes: within every cap
    assert res.pages == 4 and res.status == "processing"


@pytest.fixture(params=["sqlite", "redis"])
def page_queue(request: pytest.FixtureRequest, archive, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch):
    """The archive's queue on the real queue storage of each kind (no worker runs)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    else:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc})")
        url = REDIS_URL
    settings = Settings.from_env({"DANGAN_DATA": str(tmp_path), "DANGAN_QUEUE_URL": url,
                                  "DANGAN_QUEUE_NAME": f"dangan-test-{uuid.uuid4().hex[:10]}"})
    queue = JobQueue(settings, lambda: archive)
    monkeypatch.setattr(archive, "queue", queue)  # ingest queues on this storage
    yield queue.huey
    queue.huey.flush()


def test_small_upload_runs_before_the_tail_of_a_large_one(archive, page_queue,
                                                          tmp_path: Path) -> None:
    page = render_page(["卷内文件"], size=(200, 150))
    large = ingest(archive, _request([write_tiff(tmp_path / "large.tif", [page] * 6)], "大卷"))
    small = ingest(archive, _request([write_png(tmp_path / "one.png",
                                                render_page(["单页"], size=(200, 150)))], "单页"))
    order = []
    while (task := page_queue.dequeue()) is not None:
        order.append(task.args[0])
    from service.models import Page

    with archive.session() as s:
        where = {p.id: (p.item_id, p.n) for p in s.query(Page)}
    ran = [where[pid] for pid in order]
    assert len(ran) == 7
    assert ran.index((small.id, 1)) < ran.index((large.id, 2))  # not behind the tail
    assert [n for item, n in ran if item == large.id] == list(range(1, 7))  # in page order


def test_file_over_limits_is_an_ingest_error_of_its_own(tmp_path: Path) -> None:
    from indexer.document import Limits

    tiff = write_many_frame_tiff(tmp_path / "many.tif", frames=20, size=(1000, 1000))
    with pytest.raises(IngestError) as exc:
        measure(tiff, Limits(max_pages=100, max_decoded_bytes=10_000_000))
    assert exc.value.code == "too-large"


def test_old_redis_list_queue_is_replaced_by_the_priority_one(tmp_path: Path) -> None:
    """An upgrade from the list-based Redis queue must not leave every dequeue failing."""
    import redis

    from service.jobs.queue import drop_unprioritised_queue

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc})")
    settings = Settings.from_env({"DANGAN_DATA": str(tmp_path), "DANGAN_QUEUE_URL": REDIS_URL,
                                  "DANGAN_QUEUE_NAME": f"dangan-test-{uuid.uuid4().hex[:10]}"})
    huey = build_huey(settings)
    key = huey.storage.queue_key
    try:
        client.lpush(key, b"an old task")
        assert drop_unprioritised_queue(huey) is True
        huey.storage.enqueue(b"new", priority=5)
        assert huey.storage.dequeue() == b"new"
        assert drop_unprioritised_queue(huey) is False
    finally:
        client.delete(key)
        client.close()


def test_default_byte_caps_admit_every_page_the_page_caps_admit(tmp_path: Path) -> None:
    """A volume at the page cap, scanned in colour at 300 dpi (A4: 2480 × 3508 × 3 bytes a
    page), is a legitimate upload: the decoded-bytes defaults must not refuse it first."""
    a4_colour_300dpi = 2480 * 3508 * 3
    s = Settings.from_env({"DANGAN_DATA": str(tmp_path)})
    assert s.max_decoded_bytes_per_file >= s.max_pages_per_file * a4_colour_300dpi
    assert s.max_decoded_bytes_per_upload >= s.max_pages_per_upload * a4_colour_300dpi
