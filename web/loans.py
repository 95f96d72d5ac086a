"""Lending (借阅) pages: request, my loans, the approvals queue, the lending desk (issue and
take back), overdue loans, and the register (PDF, XLSX). Views parse the form, call
service.lending / service.loan_register and render; the rules live in the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from service import clock
from service.access import (
    can_approve_loans,
    can_lend,
    can_read_loan_register,
    can_return_loan,
    loan_approval_refusal,
    own_request,
    require_loan_register,
)
from service.errors import N_, DanganError, InvalidInput
from service.lending import (
    APPROVED,
    ISSUED,
    KIND_NAMES,
    KINDS,
    OVERDUE,
    REQUESTED,
    STATUS_NAMES,
    STATUSES,
    LoanRequest,
    approval_queue,
    approve,
    chosen_items,
    desk_queue,
    issue,
    items_by_codes,
    local,
    local_input,
    mismatched_loans,
    my_loans,
    overdue_loans,
    parse_local,
    pick_items,
    reject,
    reminders,
    request_loan,
    settle_mismatch,
    shown_status,
    take_back,
    visible_loan,
    withdraw,
)
from service.loan_register import EXPORT_FORMATS, export, parse_filters, register
from service.models import Loan, User

from .ctx import db, me, rollback, tr
from .i18n import bilingual

bp = Blueprint("loans", __name__)


@bp.app_context_processor
def loan_globals() -> dict[str, Any]:
    """The reminder banner (overdue loans, returns that did not agree, requests to decide)
    and the nav's lending links, on every page."""
    user = me()
    if user is None:
        return {}
    return {"loan_reminders": reminders(db(), user), "can_lend": can_lend(user),
            "can_approve_loans": can_approve_loans(user),
            "can_read_loan_register": can_read_loan_register(user),
            "loan_time": local, "loan_shown_status": shown_status,
            "LOAN_STATUS_NAMES": STATUS_NAMES, "LOAN_KIND_NAMES": KIND_NAMES}


def _user() -> User:
    user = me()
    assert user is not None  # login_required
    return user


def _ids(values: list[str]) -> list[int]:
    out = []
    for raw in values:
        raw = raw.strip()
        if raw:
            if not raw.isdigit():
                raise InvalidInput(N_("档案编号“%(value)s”无效。"), value=raw[:20])
            out.append(int(raw))
    return out


def _counts(form: MultiDict[str, str], prefix: str) -> dict[int, int | None]:
    """{item id: pages} from fields named prefix-<item id>; a blank field is None."""
    out: dict[int, int | None] = {}
    for key, raw in form.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            raw = raw.strip()
            if raw and not raw.isdigit():
                raise InvalidInput(N_("页数应为整数：“%(value)s”。"), value=raw[:20])
            out[int(key[len(prefix):])] = int(raw) if raw else None
    return out


# ----------------------------------------------------------------- request


def _form_values(form: MultiDict[str, str], user: User) -> dict[str, Any]:
    start = clock.now().replace(second=0, microsecond=0)
    return {"borrower": form.get("borrower", ""), "department": form.get("department",
                                                                       user.department or ""),
            "purpose": form.get("purpose", ""), "kind": form.get("kind", "electronic"),
            "starts_at": form.get("starts_at") or local_input(start),
            "ends_at": form.get("ends_at") or local_input(start + timedelta(hours=2)),
            "codes": form.get("codes", "")}


@bp.route("/loans/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """The request form: the items chosen (from ?item=ID, the 档号 picker or typed 档号),
    the borrower, purpose, paper or electronic, and the period."""
    s, user = db(), _user()
    source = request.form if request.method == "POST" else request.args
    chosen_ids = list(dict.fromkeys(_ids(source.getlist("item"))))
    error = None
    if request.method == "POST":
        try:
            ids = chosen_ids + items_by_codes(s, user, source.get("codes", "").splitlines())
            req = LoanRequest(kind=source.get("kind", ""), purpose=source.get("purpose", ""),
                              starts_at=parse_local(source.get("starts_at"), N_("借阅开始时间")),
                              ends_at=parse_local(source.get("ends_at"), N_("借阅结束时间")),
                              item_ids=ids, borrower=source.get("borrower", ""),
                              department=source.get("department", ""))
            loan = request_loan(s, user, req)
        except DanganError as exc:
            rollback()
            error = tr(exc.msg)
        else:
            flash(_("借阅申请 %(number)s 已提交，等待审批。", number=loan.number), "success")
            return redirect(url_for("loans.show", loan_id=loan.id))
    chosen = chosen_items(s, user, chosen_ids)
    q = (request.args.get("q") or "").strip()
    found = [item for item in pick_items(s, user, q) if item.id not in chosen_ids] if q else []
    return render_template("loan_new.html", chosen=chosen, found=found, q=q, error=error,
                           values=_form_values(source, user), kinds=KINDS,
                           on_behalf=can_lend(user)), 400 if error else 200


# ----------------------------------------------------------------- lists


@bp.route("/loans")
@login_required
def mine() -> ResponseReturnValue:
    return render_template("loans_mine.html", loans=my_loans(db(), _user()))


@bp.route("/loans/approvals")
@login_required
def approvals() -> ResponseReturnValue:
    return render_template("loans_approvals.html", loans=approval_queue(db(), _user()))


@bp.route("/loans/desk")
@login_required
def desk() -> ResponseReturnValue:
    to_issue, out = desk_queue(db(), _user())
    return render_template("loans_desk.html", to_issue=to_issue, out=out)


@bp.route("/loans/overdue")
@login_required
def overdue() -> ResponseReturnValue:
    user = _user()
    if not can_lend(user):
        require_loan_register(user)
    s = db()
    return render_template("loans_overdue.html", overdue=overdue_loans(s),
                           mismatched=mismatched_loans(s), now=clock.now())


@bp.route("/loans/register")
@login_required
def register_page() -> ResponseReturnValue:
    s, user = db(), _user()
    require_loan_register(user)
    filters = parse_filters(request.args)
    fmt = request.args.get("format", "")
    if fmt:
        data = export(s, user, filters, fmt, bilingual)
        name = f"loan-register-{clock.now():%Y%m%d-%H%M}.{fmt}"
        return Response(data, mimetype=EXPORT_FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    return render_template("loans_register.html", loans=register(s, user, filters),
                           filters=filters, statuses=(*STATUSES, OVERDUE), kinds=KINDS,
                           args=request.args.to_dict())


# ----------------------------------------------------------------- one loan and its steps


@bp.route("/loans/<int:loan_id>")
@login_required
def show(loan_id: int) -> ResponseReturnValue:
    user = _user()
    loan = visible_loan(db(), user, loan_id)
    mine_ = own_request(user, loan.requested_by, loan.borrower_id)
    return render_template(
        "loan.html", loan=loan, status=shown_status(loan),
        may_decide=loan.status == REQUESTED and loan_approval_refusal(user, loan) is None,
        may_issue=loan.status == APPROVED and can_lend(user),
        may_return=loan.status == ISSUED and can_return_loan(user, loan),
        may_withdraw=mine_ and loan.status in (REQUESTED, APPROVED),
        may_settle=loan.mismatch and loan.settled_at is None and can_lend(user))


def _act(loan_id: int, step: Callable[[], Loan], done: str) -> ResponseReturnValue:
    """Run one step of the loan; back on the loan's page with what happened (or why not)."""
    try:
        loan = step()
    except DanganError as exc:
        rollback()
        flash(tr(exc.msg), "error")
        return redirect(url_for("loans.show", loan_id=loan_id))
    if loan.mismatch and loan.status == "returned" and loan.settled_at is None:
        flash(_("借阅单 %(number)s 已归还，但归还页数与借出页数不符，已记录并列入待处理。",
                number=loan.number), "error")
    else:
        flash(_(done, number=loan.number), "success")
    return redirect(url_for("loans.show", loan_id=loan_id))


@bp.route("/loans/<int:loan_id>/approve", methods=["POST"])
@login_required
def approve_view(loan_id: int) -> ResponseReturnValue:
    return _act(loan_id, lambda: approve(db(), _user(), loan_id, request.form.get("note", "")),
                N_("借阅单 %(number)s 已批准。"))


@bp.route("/loans/<int:loan_id>/reject", methods=["POST"])
@login_required
def reject_view(loan_id: int) -> ResponseReturnValue:
    return _act(loan_id, lambda: reject(db(), _user(), loan_id, request.form.get("reason", "")),
                N_("借阅单 %(number)s 已驳回。"))


@bp.route("/loans/<int:loan_id>/withdraw", methods=["POST"])
@login_required
def withdraw_view(loan_id: int) -> ResponseReturnValue:
    return _act(loan_id, lambda: withdraw(db(), _user(), loan_id), N_("借阅单 %(number)s 已撤回。"))


@bp.route("/loans/<int:loan_id>/issue", methods=["POST"])
@login_required
def issue_view(loan_id: int) -> ResponseReturnValue:
    return _act(loan_id, lambda: issue(db(), _user(), loan_id, _counts(request.form, "out-")),
                N_("借阅单 %(number)s 已借出。"))


@bp.route("/loans/<int:loan_id>/return", methods=["POST"])
@login_required
def return_view(loan_id: int) -> ResponseReturnValue:
    notes = {int(k[5:]): v for k, v in request.form.items()
             if k.startswith("note-") and k[5:].isdigit()}
    return _act(loan_id, lambda: take_back(db(), _user(), loan_id,
                                           _counts(request.form, "back-"), notes),
                N_("借阅单 %(number)s 已归还。"))


@bp.route("/loans/<int:loan_id>/settle", methods=["POST"])
@login_required
def settle_view(loan_id: int) -> ResponseReturnValue:
    return _act(loan_id, lambda: settle_mismatch(db(), _user(), loan_id,
                                                 request.form.get("settlement", "")),
                N_("借阅单 %(number)s 的页数差异已处理。"))
