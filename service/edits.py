"""Editing an item's catalogue record: every change recorded with who, when, why and the
previous values (the item page shows the history).

`apply_change` is the one function that changes an item's fields after registration, and
only the archive manager's approval of a change request calls it (service.changes: the edit
screen and a catalogue sheet ask for a change with `propose_change`'s checked values). The
fields that make the 档号 (全宗, 门类, 年度, 保管期限, 机构, 件号) are not editable: a code is
never reused or changed once given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import Who, require_edit_item, require_register, require_register_id_copies
from .audit import record
from .catalogue import visible_customer
from .errors import N_, InvalidInput, Listing, Message
from .fields import check_text, yes_no
from .ingest import MAX_PAPER_PAGES, check_doc_date
from .locations import get_box, put_in_box
from .models import ArchiveItem, Customer, ItemChange, User
from .privacy import fields_for, written_back
from .vocab import CUSTOMER_SECTIONS, SECRECY_LEVELS


def _text(label: str, column: Any, required: bool = False) -> Callable[..., Any]:
    def parse(_s: Session, _u: User, _item: ArchiveItem, raw: str) -> str | None:
        value = raw.strip()
        if required and not value:
            raise InvalidInput(N_("%(field)s不能为空。"), field=Message(label))
        check_text(column, value, label)
        return value or None
    return parse


def _date(_s: Session, _u: User, item: ArchiveItem, raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(N_("日期“%(value)s”无效，格式为 YYYY-MM-DD。"), value=raw) from None
    check_doc_date(value, item.year)
    return value


def _secrecy(_s: Session, user: User, _item: ArchiveItem, raw: str) -> str:
    value = raw.strip()
    if value not in SECRECY_LEVELS:
        raise InvalidInput(N_("密级“%(value)s”无效，可选：%(choices)s。"), value=value,
                           choices=Listing(SECRECY_LEVELS))
    require_register(user, value)  # the editor must still be able to open the item
    return value


def _pages(_s: Session, _u: User, _item: ArchiveItem, raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_PAPER_PAGES:
        raise InvalidInput(N_("纸质页数应为 0 到 %(max)s 的整数。"), max=MAX_PAPER_PAGES)
    return int(raw)


def _section(_s: Session, _u: User, _item: ArchiveItem, raw: str) -> str | None:
    value = raw.strip() or None
    if value is not None and value not in CUSTOMER_SECTIONS:
        raise InvalidInput(N_("客户档案分类无效，可选：%(choices)s。"),
                           choices=Listing(tuple(CUSTOMER_SECTIONS)))
    return value


def _id_copies(_s: Session, user: User, _item: ArchiveItem, raw: str) -> bool:
    value = yes_no(raw, "身份证复印件")
    if value:
        require_register_id_copies(user)  # the editor must still be able to open the item
    return value


def _customer(s: Session, user: User, _item: ArchiveItem, raw: str) -> int | None:
    number = raw.strip()
    return visible_customer(s, user, number).id if number else None


@dataclass(frozen=True)
class Field:
    """An editable catalogue field: its column, Chinese label and parser."""

    attr: str
    label: str
    parse: Callable[[Session, User, ArchiveItem, str], Any]


NOTHING_CHANGED = N_("没有字段被修改。")

#: The editable fields, in the form's order (keys are the form's and the history's names).
FIELDS: dict[str, Field] = {
    "title": Field("title", "题名", _text("题名", ArchiveItem.title, required=True)),
    "doc_number": Field("doc_number", "文号", _text("文号", ArchiveItem.doc_number)),
    "responsible": Field("responsible", "责任者", _text("责任者", ArchiveItem.responsible)),
    "date": Field("doc_date", "日期", _date),
    "secrecy": Field("secrecy", "密级", _secrecy),
    "paper_pages": Field("paper_pages", "页数", _pages),
    "customer": Field("customer_id", "客户编号", _customer),
    "customer_section": Field("customer_section", "客户档案分类", _section),
    "remarks": Field("remarks", "备注", _text("备注", ArchiveItem.remarks)),
    "id_copies": Field("id_copies", "身份证复印件", _id_copies),
}


#: Labels of what an arrangement records in the history (beside the fields').
ARRANGE_LABELS = {"pages": "页码", "new_items": "拆出新件", "split_from": "拆自", "merged": "并入本件",
                  "merged_into": "已并入", "order": "页序", "turn": "旋转", "blank": "空白页"}


#: Labels of what a batch import's edit records beside the fields (service.batch).
IMPORT_LABELS = {"box": "盒号"}


def change_labels() -> dict[str, str]:
    """The Chinese label of every key a change records (the web translates them)."""
    return {**{k: f.label for k, f in FIELDS.items()}, **ARRANGE_LABELS, **IMPORT_LABELS}


def field_values(item: ArchiveItem) -> dict[str, str]:
    """The item's editable fields as the form shows them (and the history records them)."""
    out: dict[str, str] = {}
    for key, f in FIELDS.items():
        value = getattr(item, f.attr)
        if key == "customer":
            value = item.customer.number if item.customer else None
        elif key == "id_copies":
            value = "是" if value else "否"
        out[key] = "" if value is None else str(value)
    return out


def form_values(item: ArchiveItem, who: Who) -> dict[str, str]:
    """The edit form's values as `who` may read them (privacy.fields_for: ID and mobile
    numbers masked without the privacy right; sent back, `propose_change` restores them)."""
    return fields_for(who, field_values(item))


def current_values(item: ArchiveItem) -> dict[str, str]:
    """Everything a change request may change, as the record shows it now: the editable
    fields and the box (a catalogue sheet files an item into a box)."""
    return {**field_values(item), "box": item.box.barcode if item.box else ""}


def _shown(key: str, value: Any, raw: str) -> str:
    """A parsed value as field_values shows it (the customer by its number)."""
    if value is None:
        return ""
    if key == "id_copies":
        return "是" if value else "否"
    return raw.strip() if key == "customer" else str(value)


def propose_change(session: Session, user: User, item: ArchiveItem,
                   values: Mapping[str, str | None], reason: str) -> dict[str, list[str]]:
    """Check a change of the fields given in ``values`` (raw form text; a key left out is
    unchanged) by the rules apply_change writes with: each changed field as ``[previous,
    proposed]``. Writes nothing. All or nothing: one bad value refuses the whole change."""
    require_edit_item(user, item)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("请填写修改原因。"))
    check_text(ItemChange.reason, reason, "修改原因")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(N_("不能修改这些字段：%(fields)s。"), fields=Listing(tuple(unknown)))
    before = field_values(item)
    # a value the form showed masked keeps the digits it stands for (privacy.written_back)
    values = {key: written_back(user, raw, before[key]) for key, raw in values.items()}
    proposed = {key: _shown(key, FIELDS[key].parse(session, user, item, raw or ""), raw or "")
                for key, raw in values.items() if raw is not None}
    changes = {k: [before[k], v] for k, v in proposed.items() if before[k] != v}
    if not changes:
        raise InvalidInput(NOTHING_CHANGED)
    return changes


def apply_change(session: Session, approver: User, item: ArchiveItem,
                 changes: Mapping[str, list[str]], reason: str, *, requested_by: str,
                 request_id: int) -> ItemChange:
    """Write an approved change request onto the item (service.changes.approve_change is
    the only caller): each proposed value checked again by its field's rule, recorded in
    the history with who asked, who approved, why and the previous values. The search
    index follows in the same unit of work (service.indexing)."""
    unknown = sorted(set(changes) - set(FIELDS) - {"box"})
    if unknown:
        raise InvalidInput(N_("不能修改这些字段：%(fields)s。"), fields=Listing(tuple(unknown)))
    for key, (_previous, proposed) in changes.items():
        if key == "box":
            if proposed:
                put_in_box(get_box(session, proposed), item)
            else:
                item.box_id = None
            continue
        f = FIELDS[key]
        setattr(item, f.attr, f.parse(session, approver, item, proposed or ""))
        if key == "customer":
            # filed as service.ingest files an item the archive registers: the customer
            # file's owner and department open it
            cust = session.get(Customer, item.customer_id) if item.customer_id else None
            item.owner_id = cust.owner_id if cust else None
            item.department = cust.department if cust else None
    session.flush()
    session.expire(item, ["customer", "box"])
    return log_change(session, None, item, "edit", dict(changes), reason, actor=requested_by,
                      approved_by=approver.username, request_id=request_id)


def log_change(session: Session, user: User | None, item: ArchiveItem, kind: str,
               changes: dict, reason: str, *, actor: str | None = None,
               approved_by: str | None = None, request_id: int | None = None) -> ItemChange:
    """Record one change of an item in its history, and in the audit trail unless it is an
    approved request (service.changes audits the approval)."""
    actor = actor or (user.username if user else "cli")
    change = ItemChange(item_id=item.id, kind=kind, actor=actor, reason=reason, changes=changes,
                        approved_by=approved_by, request_id=request_id)
    session.add(change)
    if request_id is None:
        record(session, actor, f"item.{kind}", f"item:{item.id}",
               {"archival_code": item.archival_code, "reason": reason, "changes": changes})
    session.flush()
    return change


def history(session: Session, item_id: int) -> list[ItemChange]:
    """The item's changes, newest first."""
    return list(session.scalars(select(ItemChange).where(ItemChange.item_id == item_id)
                                .order_by(ItemChange.id.desc())))
