"""Labels for the catalogue's stored values, in the user's language (Flask-Babel catalogues).

The catalogue stores its controlled values as the archive writes them (secrecy `内部`,
customer kind `企业`, role `archivist`, shelf paths `一号库房/3架/2节/4层`); every page shows
them through these functions, so the English interface never shows a stored code or a
Chinese label. User data (titles, names, room names, typed notes) is shown as written.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from service.catalogue import CategoryName
from service.crosscheck import CHANGED, NEVER, OPEN
from service.errors import N_
from service.locations import path_parts
from service.models import Category, Shelf
from service.vocab import CheckResult, DiscrepancyKind, PaperCondition, Role, Secrecy

from .ctx import gettext as _
from .ctx import lang

#: The message ids of the 密级 (translated one at a time: a search page shows dozens).
_SECRECY: dict[str, str] = {
    Secrecy.PUBLIC: N_("公开"), Secrecy.INTERNAL: N_("内部"), Secrecy.SECRET: N_("秘密"),
    Secrecy.CONFIDENTIAL: N_("机密"), Secrecy.TOP_SECRET: N_("绝密")}


def secrecy_label(level: str) -> str:
    msgid = _SECRECY.get(level)
    return _(msgid) if msgid is not None else level


#: The badge class of each 密级 (app.css colours them).
_SECRECY_CLASS: dict[str, str] = {
    Secrecy.PUBLIC: "public", Secrecy.INTERNAL: "internal", Secrecy.SECRET: "secret",
    Secrecy.CONFIDENTIAL: "confidential", Secrecy.TOP_SECRET: "topsecret"}


def secrecy_badge(level: str) -> Markup:
    """The 密级 as a coloured badge: a function, where a macro makes a new template context
    on each call (a search page shows one on every hit); f-strings, not `Markup.format`
    (~5 µs a call)."""
    return Markup(f'<span class="badge secrecy secrecy-{_SECRECY_CLASS.get(level, "other")}">'
                  f'{escape(secrecy_label(level))}</span>')


def status_badge(status: str, label: str) -> Markup:
    """An item's status (its `label` in the user's language) as a badge."""
    return Markup(f'<span class="badge status status-{escape(status)}">{escape(label)}</span>')


def role_label(role: str) -> str:
    labels: dict[str, str] = {
        Role.ADMIN: _("系统管理员"), Role.MANAGER: _("档案室主任"), Role.EXECUTIVE: _("公司领导"),
        Role.ARCHIVIST: _("档案管理员"), Role.OFFICER: _("核对员"),
        Role.DEPT_MANAGER: _("部门经理"), Role.STAFF: _("业务人员")}
    return labels.get(role, role)


def kind_label(kind: str | None) -> str:
    return {"企业": _("企业"), "个人": _("个人")}.get(kind or "", kind or "—")


def grade_label(grade: str | None) -> str:
    return {"战略": _("战略"), "重点": _("重点"), "普通": _("普通"), "潜在": _("潜在")}.get(
        grade or "", grade or "—")


def category_label(category: Category | CategoryName | None, code: str | None = None) -> str:
    """`HT 合同协议` / `HT Contracts and agreements` (the category's own English name)."""
    if category is None:
        return code or "—"
    name = category.name_en if lang() == "en" and category.name_en else category.name
    return f"{category.code} {name}"


def _shelf(room: str, rack: str, section: str, shelf: str) -> str:
    return _("%(room)s/%(rack)s架/%(section)s节/%(shelf)s层", room=room, rack=rack,
             section=section, shelf=shelf)


def shelf_path(shelf: Shelf | None) -> str:
    """A shelf's place, `一号库房/3架/2节/4层` or `一号库房 / rack 3 / section 2 / shelf 4`."""
    if shelf is None:
        return _("未上架")
    sec = shelf.section
    return _shelf(sec.rack.room.name, sec.rack.code, sec.code, shelf.code)


def location_label(path: str | None) -> str:
    """A stored location (service.locations.box_path or a shelf path) in the user's language.
    Kept per language and path: a search page shows ~60 (its hits' and its facet's), and the
    archive has as many as it has boxes and shelves."""
    if not path:
        return "—"
    return _location_label(lang(), path)


@lru_cache(maxsize=8192)
def _location_label(language: str, path: str) -> str:
    """`location_label` in `language`, which is the request's (its translations)."""
    parts = path_parts(path)
    if parts is None:
        return path
    room, rack, section, shelf = parts["room"], parts["rack"], parts["section"], parts["shelf"]
    where = _shelf(room, rack, section, shelf) \
        if room and rack and section and shelf else _("未上架")
    return _("%(path)s/盒 %(box)s", path=where, box=parts["box"]) if parts.get("box") else where


def change_kind_label(kind: str) -> str:
    """The kind of a recorded change of an item (service.models.ItemChange.kind)."""
    return {"edit": _("修改著录"), "split": _("拆分"), "merge": _("合并"),
            "arrange": _("页面整理"), "deleted": _("删除"), "destroyed": _("销毁")}.get(kind, kind)


def note_label(note: str | None) -> str:
    """A move note: the system's own notes are message ids (`locations.SHELVED`), translated;
    typed ones are in no catalogue and stay as typed."""
    return _(note) if note else ""


def discrepancy_label(kind: str | None) -> str:
    labels: dict[str, str] = {
        DiscrepancyKind.MISSING_SCAN: _("缺扫（纸质页无扫描）"),
        DiscrepancyKind.EXTRA_SCAN: _("多扫（扫描无对应纸页）"),
        DiscrepancyKind.PAGE_ORDER: _("页序错误"),
        DiscrepancyKind.ILLEGIBLE: _("扫描不清"),
        DiscrepancyKind.CONTENT_DIFFERS: _("内容不符"),
        DiscrepancyKind.SEAL_NOT_VISIBLE: _("印章或签名不可见"),
        DiscrepancyKind.PAPER_DAMAGED: _("纸质原件破损")}
    return labels.get(kind or "", kind or "—")


def check_reason_label(reason: str | None) -> str:
    """Why an item waits for a cross-check (service.crosscheck)."""
    labels = {NEVER: _("未核对"), CHANGED: _("核对后有变更"), OPEN: _("差异未解决")}
    return labels.get(reason or "", reason or "—")


def result_label(result: str | None) -> str:
    labels: dict[str, str] = {CheckResult.AGREES: _("一致"), CheckResult.DISCREPANCY: _("有差异")}
    return labels.get(result or "", result or "—")


def condition_label(condition: str | None) -> str:
    labels: dict[str, str] = {PaperCondition.INTACT: _("完好"), PaperCondition.DAMAGED: _("破损"),
                              PaperCondition.MISSING_PAGES: _("缺页")}
    return labels.get(condition or "", condition or "—")


LABELS = {"secrecy_label": secrecy_label, "secrecy_badge": secrecy_badge,
          "status_badge": status_badge, "role_label": role_label, "kind_label": kind_label,
          "grade_label": grade_label, "category_label": category_label, "shelf_path": shelf_path,
          "location_label": location_label, "note_label": note_label,
          "discrepancy_label": discrepancy_label, "check_reason_label": check_reason_label,
          "result_label": result_label, "condition_label": condition_label,
          "change_kind_label": change_kind_label}
