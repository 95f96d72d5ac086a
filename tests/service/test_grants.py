"""Viewing grants open an item until they expire or are revoked, on the archive's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PIL import Image

from service import clock, grants
from service.ingest import IngestRequest, ingest
from service.users import create_user
from tests.queued import QueuedPages

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_grant_opens_until_it_expires_or_is_revoked(archive, tmp_path) -> None:
    QueuedPages(archive)
    scan = tmp_path / "scan.png"
    Image.new("L", (60, 80), 255).save(scan)
    item_id = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                            retention="D30", secrecy="秘密", title="合同")).id
    with archive.session() as s:
        user_id = create_user(s, "alice", "password-1").id
    with clock.use_clock(lambda: T0), archive.session() as s:
        grants.give(s, user_id=user_id, item_ids=[item_id], expires_at=T0 + timedelta(hours=4),
                    granted_by="carol", loan_id=7)
    with archive.session() as s:
        assert grants.has_grant(s, user_id, item_id, T0)
        assert grants.granted_item_ids(s, user_id, T0 + timedelta(hours=3, minutes=59)) == {item_id}
        assert not grants.has_grant(s, user_id, item_id, T0 + timedelta(hours=4))
        assert not grants.has_grant(s, user_id, item_id, T0 - timedelta(minutes=1))
        with clock.use_clock(lambda: T0 + timedelta(hours=1)):
            assert grants.has_grant(s, user_id, item_id)
            assert grants.revoke_loan(s, 7) == 1
            assert not grants.has_grant(s, user_id, item_id)
        assert grants.has_grant(s, user_id, item_id, T0 + timedelta(minutes=30))
