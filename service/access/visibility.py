"""Which items a user's searches and listings may reach, as the engines' `Visibility`
and as SQL over the catalogue: by secrecy, scope (owner, department, every customer file
for the archive's roles), viewing grants, and items held for or gone to disposal.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from indexer.search.types import Visibility

from ..models import ArchiveItem, Customer, User
from ..vocab import SECRECY_LEVELS, TOMBSTONES, Role, Secrecy
from .personal import can_see_personal
from .reader import Who, live_grants, reader_of
from .roles import ALL_ROLES_SEE

WIDE = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET, Secrecy.CONFIDENTIAL})
NARROW = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})


def visibility_for(user: User | None) -> Visibility:
    if user is None:
        return Visibility(secrecy=frozenset(), see_all=False)
    if user.role in ALL_ROLES_SEE:
        return Visibility(secrecy=WIDE, see_all=True)
    departments = frozenset({user.department}) if user.role == Role.DEPT_MANAGER and user.department \
        else frozenset()
    return Visibility(secrecy=NARROW, owner_ids=frozenset({user.id}), departments=departments)


def operator_visibility() -> Visibility:
    """The command line is run by the system's operator: everything shown electronically."""
    return Visibility(secrecy=WIDE, see_all=True)


def findable_secrecy_levels(user: User | None) -> tuple[str, ...]:
    """The 密级 a search by this user can ever return, in the catalogue's order: the
    search page offers only these as filters (绝密 never, 机密 only to the archive's roles)."""
    allowed = visibility_for(user).secrecy
    return tuple(level for level in SECRECY_LEVELS if level in allowed)


def visible_clause(vis: Visibility) -> ColumnElement[bool]:
    """The visibility rule as a SQL condition on ArchiveItem, for catalogue listings
    (browsing by filters): the same rule the search engines apply inside their queries."""
    granted: ColumnElement[bool] = and_(
        ArchiveItem.id.in_(sorted(vis.granted_ids)),
        ArchiveItem.secrecy.in_(sorted(vis.granted_secrecy)), disposal_hidden_clause()) \
        if vis.granted_ids and vis.granted_secrecy else false()
    if not vis.secrecy:
        return granted
    cond: ColumnElement[bool] = ArchiveItem.secrecy.in_(sorted(vis.secrecy))
    if vis.see_all:
        return or_(cond, granted)
    cond = and_(cond, disposal_hidden_clause())
    ors = []
    if vis.owner_ids:
        ors.append(ArchiveItem.owner_id.in_(sorted(vis.owner_ids)))
    if vis.departments:
        ors.append(ArchiveItem.department.in_(sorted(vis.departments)))
    return or_(and_(cond, or_(*ors)), granted) if ors else granted


def visible_under(vis: Visibility, item: ArchiveItem) -> bool:
    """The one test of an item against a visibility (a user's or the operator's): the rule
    the search engines apply inside their queries (indexer.search.types.Visibility)."""
    if item.id in vis.granted_ids and item.secrecy in vis.granted_secrecy \
            and not in_disposal(item):
        return True
    if item.secrecy not in vis.secrecy:
        return False
    if not vis.see_all and in_disposal(item):
        return False
    return vis.see_all or item.owner_id in vis.owner_ids or (
        item.department is not None and item.department in vis.departments)


#: The levels a viewing grant (an approved electronic loan) may open: never 机密 or 绝密.
GRANT_LEVELS = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})
#: The levels staff and department managers open within their scope without a loan.
SCOPE_OPEN = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL})
#: The levels the archive's roles open anywhere; 机密 is added at a reading-room workstation.
CUSTODIAN_OPEN = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})


def search_visibility(session: Session | None, who: Who) -> Visibility:
    """Which items' text a search by `who` may match (and count, facet and snip): exactly
    the items `may_open` allows, as the engines' Visibility (grants included)."""
    reader = reader_of(who)
    user = reader.user
    if user is None:
        return Visibility(secrecy=frozenset())
    if user.role in ALL_ROLES_SEE:
        levels = CUSTODIAN_OPEN | ({Secrecy.CONFIDENTIAL} if reader.reading_room else set())
        return Visibility(secrecy=frozenset(levels), see_all=True,
                          personal=can_see_personal(user))
    scope = visibility_for(user)
    granted = live_grants(session, reader, user)
    return Visibility(secrecy=SCOPE_OPEN, owner_ids=scope.owner_ids,
                      departments=scope.departments, granted_ids=granted,
                      granted_secrecy=GRANT_LEVELS if granted else frozenset(),
                      personal=can_see_personal(user))


def lookup_visibility(session: Session | None, who: Who) -> Visibility:
    """Which catalogue entries `who` may list (browsing by filters): `may_look_up`."""
    reader = reader_of(who)
    user = reader.user
    scope = visibility_for(user)
    if user is None or scope.see_all or session is None:
        return scope
    granted = live_grants(session, reader, user)
    return Visibility(secrecy=scope.secrecy, owner_ids=scope.owner_ids,
                      departments=scope.departments, granted_ids=granted,
                      granted_secrecy=GRANT_LEVELS if granted else frozenset())


def operator_search_visibility() -> Visibility:
    """The operator at the command line matches text as the archive's roles do outside the
    reading room: never 机密 (not in a terminal) or 绝密."""
    return Visibility(secrecy=CUSTODIAN_OPEN, see_all=True)


def can_see_customer(user: User | None, customer: Customer) -> bool:
    """A customer file is the user's to see (and to file items into) on the same terms as its
    items: the archive's roles see every customer, a department manager the department's,
    staff the customers they own."""
    vis = visibility_for(user)
    if not vis.secrecy:
        return False
    return vis.see_all or customer.owner_id in vis.owner_ids or (
        customer.department is not None and customer.department in vis.departments)


def in_disposal(item: ArchiveItem) -> bool:
    """Held for deletion, or a tombstone."""
    return item.deletion_due_at is not None or item.status in TOMBSTONES


def disposal_hidden_clause() -> ColumnElement[bool]:
    """`in_disposal` negated, as SQL: what users outside the archive's roles may list."""
    return and_(ArchiveItem.deletion_due_at.is_(None),
                ArchiveItem.status.notin_(sorted(TOMBSTONES)))
