"""The search page: one query box, filters with facet counts, results with snippets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from service.access import findable_secrecy_levels, with_grants
from service.catalogue import scheme_names
from service.codes import RETENTIONS
from service.errors import N_, InvalidInput
from service.items import hit_rows, recent_items
from service.search import (
    CHIP_PARAMS,
    FACET_ORDER,
    FacetGroup,
    facet_groups,
    filter_chips,
    parse_search_params,
    run_search,
)
from service.vocab import CUSTOMER_SECTIONS, ItemStatus

from .ctx import archive, db, fixed_url, me, query_pair, query_string, reader, tr
from .ctx import gettext as _
from .labels import category_label, location_label, secrecy_label
from .search_hits import hit_views

bp = Blueprint("search", __name__)

PER_PAGE = 20
#: The values a facet shows, the most frequent first (``?facet=FIELD`` shows one in full:
#: a long list of customers or shelves would push the rest of the facets off the screen).
FACET_SHOWN = 10


#: Message ids of the item statuses and retentions (each label translates only its value:
#: a search page's facets and rows ask for dozens).
_STATUS: dict[str, str] = {
    ItemStatus.PROCESSING: N_("处理中"), ItemStatus.READY: N_("已完成"),
    ItemStatus.FAILED: N_("失败"), ItemStatus.PARTIAL: N_("部分可用"),
    ItemStatus.REGISTERED: N_("已登记"), ItemStatus.MERGED: N_("已并入他件"),
    ItemStatus.DELETED: N_("已删除"), ItemStatus.DESTROYED: N_("已销毁")}
_RETENTION = {"Y": N_("永久"), "D30": N_("定期30年"), "D10": N_("定期10年")}


@dataclass(frozen=True, slots=True)
class FacetLink:
    """A facet value as the page links it (objects, not dicts: a template reads a dict's
    keys only after a failed attribute lookup, ~1 µs each, ~120 a page)."""

    label: str
    count: int
    #: The filter in force: the link removes it.
    active: bool
    url: str


@dataclass(frozen=True, slots=True)
class Facet:
    #: The parameter it filters (its section's id: the links that show more or fewer of its
    #: values come back to it).
    field: str
    name: str
    entries: list[FacetLink]
    #: How many values are not shown, and the page showing them all (None: none hidden).
    hidden: int = 0
    more_url: str | None = None
    #: The page with this facet's values cut back to the most frequent (it shows them all).
    fewer_url: str | None = None


def _facet(group: FacetGroup, name: str, label: Callable[[str], str],
           url: Callable[[str | None], str], more_url: str | None,
           fewer_url: str | None) -> Facet:
    """A facet as the page links it: each value's link sets it, the active one's removes it."""
    return Facet(group.field, name, [FacetLink(e.name or label(e.value), e.count, e.active,
                                  url(None if e.active else e.value)) for e in group.entries],
                 group.hidden, more_url if group.hidden else None, fewer_url)


def status_label(value: str) -> str:
    msgid = _STATUS.get(value)
    return _(msgid) if msgid is not None else value


def section_names() -> dict[str, str]:
    """The customer-file sections (service.vocab.CUSTOMER_SECTIONS) in the user's language."""
    names = {"basic": _("基础资料"), "contract": _("合同协议"), "payment": _("收付款与债务"),
             "complaint": _("投诉与优惠"), "correspondence": _("往来函件")}
    return {code: names.get(code, name) for code, name in CUSTOMER_SECTIONS.items()}


def retention_label(value: str) -> str:
    msgid = _RETENTION.get(value)
    return _(msgid) if msgid is not None else value


def _facet_urls(base: str, params: dict, field: str) -> Callable[[str | None], str]:
    """`_url(base, params, page=None, field=value)` for each value of one facet, the
    query around the facet's own pair joined once (a page links ~100 facet values)."""
    keys = [k for k in params if k != "page"]
    if field not in keys:
        keys.append(field)
    at = keys.index(field)
    before = [query_pair(k, str(params[k])) for k in keys[:at]]
    after = [query_pair(k, str(params[k])) for k in keys[at + 1:]]

    def url(value: str | None) -> str:
        pairs = [*before, query_pair(field, value), *after] if value else before + after
        return base + "?" + "&".join(pairs) if pairs else base
    return url


def _url(base: str, params: dict, **changes: Any) -> str:
    """The search page (`base`, its address built once a request: a page has dozens of
    these links) with `params` changed: a facet, a chip, a page of the pager."""
    query = query_string({k: v for k, v in {**params, **changes}.items() if v not in (None, "")})
    return base + "?" + query if query else base


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
    in_full = request.args.get("facet", "").strip()  # the facet shown with all its values
    if in_full not in FACET_ORDER:
        in_full = ""
    base = fixed_url("search.search")  # built once a process
    user = me()
    s = db()
    fonds, categories = scheme_names(s)
    result = None
    error = None
    rows: dict = {}
    facets: list[Facet] = []
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
                       _url(base, params, page=None, **{k: None}))
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
        here = {**params, "page": page if page > 1 else None}
        facets = [_facet(g, names[g.field], value_labels.get(g.field, str),
                         _facet_urls(base, params, g.field),
                         f"{_url(base, here, facet=g.field)}#facet-{g.field}",
                         f"{_url(base, here)}#facet-{g.field}" if g.field == in_full else None)
                  for g in facet_groups(s, result, params, shown=FACET_SHOWN, in_full=in_full)]
    elif sp is not None:
        recent = recent_items(s, user, 12)
    pages = 0
    if result is not None:
        pages = max(1, -(-min(result.total, 1000) // PER_PAGE))
    return render_template(
        "search.html", q=q, params=params, result=result, facets=facets,
        hits=hit_views(result.hits, rows, q, categories, status_label) if result is not None else [],
        recent=recent, page=page, pages=pages, sort=sort, active_filters=active_filters,
        error=error, browsing=not q,
        page_url=lambda n: _url(base, params, page=n if n > 1 else None, facet=in_full or None),
        export_args={k: v for k, v in request.args.items() if k not in ("page", "facet")},
        categories=categories, fonds=fonds,
        secrecy_levels=findable_secrecy_levels(user),
        retentions=RETENTIONS, retention_label=retention_label,
        status_label=status_label), (400 if error else 200)
