"""The migration to message ids (#9.4): fixed failure reasons and the shelving note stored in
the old "中文 / English" form become messages, shown in the reader's language; other old
text is shown as it was stored."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from indexer.errors import REASONS
from service.locations import SHELVED, create_box, ensure_shelf
from service.migrate import alembic_config
from service.models import BoxMove, Page, StoredFile
from tests.web.conftest import make_item
from web.i18n import render

TRUNCATED = ("文件不完整（图像数据被截断），可能上传或复制中断。请重新上传完整文件。/ The file is "
             "incomplete (image data is truncated), probably an interrupted upload or copy. "
             "Upload the complete file again.")
OTHER = "文件共有 900 页，超过单个文件 500 页的上限。/ The file has 900 pages."


def _revision() -> tuple[str, str]:
    """This migration's revision and the one before it (their numbers move as others land)."""
    cfg = alembic_config("sqlite://")
    for rev in ScriptDirectory.from_config(cfg).walk_revisions():
        if Path(rev.path).name.endswith("_message_ids.py"):
            return rev.revision, rev.down_revision
    raise AssertionError("no message-id migration")


def test_old_bilingual_reasons_become_messages(archive) -> None:
    item_id = make_item(archive, title="旧合同", text="合同")
    with archive.session() as s:
        create_box(s, "BOX-OLD", shelf=ensure_shelf(s, "A", "1", "1", "1"), actor="arc")
    with archive.engine.begin() as c:  # rows as written before messages had ids
        c.execute(sa.update(StoredFile.__table__).where(StoredFile.item_id == item_id)
                  .values(error_reason=TRUNCATED))
        c.execute(sa.update(Page.__table__).where(Page.item_id == item_id).values(error=OTHER))
        c.execute(sa.update(BoxMove.__table__).values(note="入库 / Shelved"))
    mine, before = _revision()
    cfg = alembic_config(archive.engine.url.render_as_string(hide_password=False))
    with archive.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, before)
        command.upgrade(cfg, mine)
        command.stamp(cfg, "head")
    with archive.session() as s:
        f = s.scalars(sa.select(StoredFile).where(StoredFile.item_id == item_id)).one()
        assert f.error_reason == REASONS["truncated"]
        assert render(f.error_reason, "en").startswith("The file is incomplete")
        assert render(f.error_reason, "zh_CN").startswith("文件不完整") and "/" not in \
            render(f.error_reason, "zh_CN")
        page = s.scalars(sa.select(Page).where(Page.item_id == item_id)).one()
        assert page.error == OTHER  # not one of the fixed reasons: shown as stored
        assert s.scalars(sa.select(BoxMove.note)).all() == [SHELVED]
