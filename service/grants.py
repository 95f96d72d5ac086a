"""Viewing grants (service.models.ViewingGrant): given by lending, read by the access policy.

A grant is live from its start until it expires or is revoked, measured on the archive's
clock (service.clock), so an electronic loan ends by itself to the minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from . import clock
from .models import ViewingGrant


def give(session: Session, *, user_id: int, item_ids: Iterable[int], expires_at: datetime,
         granted_by: str, loan_id: int | None = None,
         starts_at: datetime | None = None) -> list[ViewingGrant]:
    """Let `user_id` open each item until `expires_at`."""
    start = starts_at or clock.now()
    grants = [ViewingGrant(user_id=user_id, item_id=item_id, loan_id=loan_id,
                           granted_by=granted_by, starts_at=start, expires_at=expires_at)
              for item_id in item_ids]
    session.add_all(grants)
    session.flush()
    return grants


def _live(at: datetime) -> ColumnElement[bool]:
    return and_(ViewingGrant.starts_at <= at, ViewingGrant.expires_at > at,
                or_(ViewingGrant.revoked_at.is_(None), ViewingGrant.revoked_at > at))


def granted_item_ids(session: Session, user_id: int, at: datetime | None = None) -> frozenset[int]:
    """The items `user_id` may open now under a live grant."""
    at = at or clock.now()
    rows = session.scalars(select(ViewingGrant.item_id)
                           .where(ViewingGrant.user_id == user_id, _live(at)))
    return frozenset(rows)


def has_grant(session: Session, user_id: int, item_id: int, at: datetime | None = None) -> bool:
    at = at or clock.now()
    return session.scalar(select(ViewingGrant.id).where(
        ViewingGrant.user_id == user_id, ViewingGrant.item_id == item_id, _live(at)).limit(1)) \
        is not None


def revoke_loan(session: Session, loan_id: int, at: datetime | None = None) -> int:
    """End every grant a loan gave (the loan was returned or withdrawn); how many ended."""
    at = at or clock.now()
    result = session.execute(update(ViewingGrant)
                             .where(ViewingGrant.loan_id == loan_id, _live(at))
                             .values(revoked_at=at)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
