"""The search page: one query box, filters with facet counts, results with snippets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from service.access import findable_secrecy_levels, with_grants
from service.catalogue import list_categories
from service.codes import RETENTIONS
from service.errors import InvalidInput
from service.items import hit_rows, recent_items
from service.models import Fonds
from service.search import (
    CHIP_PARAMS,
    facet_groups,
    filter_chips,
    parse_search_params,
    run_search,
)
from service.vocab import CUSTOMER_SECTIONS, ItemStatus

from .ctx import archive, db, me, reader, tr
from .ctx import gettext as _
from .labels import category_label, location_label, secrecy_label

bp = Blueprint("search", __name__)

PER_PAGE = 20


def status_label(value: str) -> str:
    labels: dict[str, str] = {
        ItemStatus.PROCESSING: _("处理中"), ItemStatus.READY: _("已完成"),
        ItemStatus.FAILED: _("失败"), ItemStatus.PARTIAL: _("部分可用"),
        ItemStatus.REGISTERED: _("已登记"), ItemStatus.MERGED: _("已并入他件"),
        ItemStatus.DELETED: _("已删除"), ItemStatus.DESTROYED: _("已销毁")}
    return labels.get(value, value)


def section_names() -> dict[str, str]:
    """The customer-file sections (service.vocab.CUSTOMER_SECTIONS) in the user's language."""
    names = {"basic": _("基础资料"), "contract": _("合同协议"), "payment": _("收付款与债务"),
             "complaint": _("投诉与优惠"), "correspondence": _("往来函件")}
    return {code: names.get(code, name) for code, name in CUSTOMER_SECTIONS.items()}


def retention_label(value: str) -> str:
    return {"Y": _("永久"), "D30": _("定期30年"), "D10": _("定期10年")}.get(value, value)


def _url(params: dict, **changes: Any) -> str:
    """The search page with `params` changed (a facet, a chip, a page of the pager); the
    page's own address is built once a request (a page has dozens of these links)."""
    if "search_url" not in g:
        g.search_url = url_for("search.search")
    p = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return g.search_url + ("?" + urlencode(p) if p else "")


@bp.route("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("search.search"))


@bp.route("/search")
@login_required
def search() -> ResponseReturnValue:
    params = {k: request.args.get(k, "").strip() for k in
              ("q", *CHIP_PARAMS, "sort")}
    params = {k: v for k, v in params.items() if v}
    q = params.get("q", "")
    user = me()
    s = db()
    categories = {c.code: c for c in list_categories(s)}
    fonds = {f.code: f.name for f in s.query(Fonds).order_by(Fonds.code)}
    result = None
    error = None
    rows: dict = {}
    facets: list = []
    recent: list = []
    page = 1
    sort = params.get("sort") or ("relevance" if q else "code")
    value_labels = {
        "fonds": lambda v: f"{v} {fonds.get(v, '')}".strip(),
        "category": lambda v: category_label(categories.get(v), v),
        "retention": retention_label, "status": status_label, "secrecy": secrecy_label,
        "location": location_label,
    }
    names = {"fonds": _("全宗"), "category": _("门类"), "year": _("年度"),
             "year_from": _("年度从"), "year_to": _("年度至"), "retention": _("保管期限"),
             "secrecy": _("密级"), "status": _("状态"), "customer": _("客户"),
             "box": _("档案盒"), "location": _("存放位置")}
    active_filters = [(k, _("%(name)s：%(value)s", name=names.get(k, k),
                            value=value_labels.get(k, str)(v)),
                       _url(params, page=None, **{k: None}))
                      for k, v in filter_chips(params)]
    try:
        sp = parse_search_params(request.args, default_limit=PER_PAGE)
    except InvalidInput as exc:
        sp = None
        error = tr(exc.msg)
    if sp is not None and (q or active_filters):
        page, sort = sp.page, sp.sort
        who = with_grants(s, reader())  # the grants read once, for the search and the rows
        result = run_search(archive(), sp, user=who, facets=True, raw=True)
        rows = hit_rows(s, who, [h.id for h in result.hits],
                        {h.id: (h.pages[0].page if h.pages else None) for h in result.hits})
        facets = [{"field": g.field, "name": names[g.field], "entries": [
            {"value": e.value, "label": e.name or value_labels.get(g.field, str)(e.value),
             "count": e.count, "active": e.active,
             "url": _url(params, page=None, **{g.field: None if e.active else e.value})}
            for e in g.entries]} for g in facet_groups(s, result, params)]
    elif sp is not None:
        recent = recent_items(s, user, 12)
    pages = 0
    if result is not None:
        pages = max(1, -(-min(result.total, 1000) // PER_PAGE))
    return render_template(
        "search.html", q=q, params=params, result=result, rows=rows, facets=facets,
        recent=recent, page=page, pages=pages, sort=sort, active_filters=active_filters,
        error=error, browsing=not q,
        page_url=lambda n: _url(params, page=n if n > 1 else None),
        categories=categories, fonds=fonds,
        secrecy_levels=findable_secrecy_levels(user),
        retentions=RETENTIONS, retention_label=retention_label,
        status_label=status_label), (400 if error else 200)
