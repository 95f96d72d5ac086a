"""The audit trail's vocabulary: every action name an entry may carry, in one place.

An entry says who (the user name, ``cli`` for the operator), when, what (one of the actions
below and its target: ``item:42``, ``user:dora``, ``box:B0001``, ``search``, ``register:loan``)
and from where (``service.audit.origin``). Names are dotted lowercase, ``subject.verb``.
Each member *is* the string stored (a StrEnum), so ``record(s, who, AuditAction.ITEM_VIEW, …)``
and queries on ``AuditEntry.action`` read the same. A new kind of event gets a member here
(and a label on the audit page, web/audit_views.py), never a string typed at the call.

Entries written before these names keep the names they were written with (the hash covers
them); ``LEGACY_NAMES`` maps those names to today's, so filters and statistics count both.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # -- signing in (service.signin, web.auth)
    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_LOGOUT = "auth.logout"
    #: the signed-in user's password asked again before a sensitive change
    AUTH_PASSWORD_CONFIRM = "auth.password_confirm"
    AUTH_PASSWORD_CONFIRM_FAILED = "auth.password_confirm_failed"
    AUTH_PASSWORD_CHANGE = "auth.password_change"
    AUTH_TOKEN_ISSUE = "auth.token_issue"

    # -- reading (every path that shows, hands out or prints content)
    #: a search or a browse by filters (web page, API, command line); detail: q, filters, total
    CATALOGUE_SEARCH = "catalogue.search"
    #: the catalogue sheet of a search or of the whole catalogue (XLSX/CSV)
    CATALOGUE_EXPORT = "catalogue.export"
    #: an item's page (web, desk, API, ``dangan show``); detail: page, via
    ITEM_VIEW = "item.view"
    #: an item asked for but not opened (out of scope, 绝密, 机密 outside the reading room, 秘密
    #: without a grant); detail: the reason or the remedy offered
    ITEM_VIEW_DENIED = "view.denied"
    #: one page image (the viewer's scan); detail: page
    PAGE_VIEW = "page.view"
    #: a stored file handed out (an original, the searchable PDF); detail: file, sha256, masked
    FILE_DOWNLOAD = "file.download"
    #: a box's (or a shelf's) paperwork PDF: cover, spine, 归档文件目录, 备考表; detail: boxes
    BOX_PRINT = "box.print"
    #: a register printed or exported; target ``register:loan`` or ``register:destruction``
    REGISTER_PRINT = "register.print"
    #: a report downloaded (the two-set report as CSV/XLSX/PDF, statistics as XLSX)
    REPORT_EXPORT = "report.export"
    #: the statistics exported (XLSX)
    STATS_EXPORT = "stats.export"
    #: the audit trail itself browsed or exported (web/audit page)
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"

    # -- registering and changing the catalogue
    ITEM_INGEST = "item.ingest"
    BATCH_IMPORT = "batch.import"
    #: catalogue edits kept in the item's history (service.edits: item.edit, item.split …)
    ITEM_EDIT = "item.edit"
    ITEM_SPLIT = "item.split"
    ITEM_MERGE = "item.merge"
    ITEM_ARRANGE = "item.arrange"
    ITEM_MOVE = "item.move"
    ITEM_PAPER = "item.paper"
    ITEM_RESCAN = "item.rescan"
    ITEM_CROSSCHECK = "item.crosscheck"
    FILE_RETRY = "file.retry"
    FILE_REMOVE = "file.remove"
    FILE_REPLACE = "file.replace"
    CUSTOMER_ADD = "customer.add"
    CUSTOMER_EDIT = "customer.edit"
    BOX_ADD = "box.add"
    BOX_MOVE = "box.move"
    SHELF_ADD = "shelf.add"
    FONDS_ADD = "fonds.add"
    FONDS_RENAME = "fonds.rename"
    CATEGORY_SAVE = "category.save"
    USER_ADD = "user.add"
    USER_UPDATE = "user.update"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_RESET_PASSWORD = "user.reset_password"
    WORKSTATION_REGISTER = "workstation.register"
    #: a browser enrolled as a registered reading-room workstation
    WORKSTATION_ENROL = "workstation.enrol"
    WORKSTATION_REVOKE = "workstation.revoke"

    # -- changes waiting for the archive manager (issue 13 item 3)
    CHANGE_REQUEST = "change.request"
    CHANGE_APPROVE = "change.approve"
    CHANGE_REJECT = "change.reject"
    CHANGE_WITHDRAW = "change.withdraw"

    # -- lending 借阅 (item 2); the electronic loan's viewing grant
    LOAN_REQUEST = "loan.request"
    LOAN_APPROVE = "loan.approve"
    LOAN_REJECT = "loan.reject"
    LOAN_CANCEL = "loan.cancel"
    LOAN_WITHDRAW = "loan.withdraw"
    LOAN_ISSUE = "loan.issue"
    LOAN_RETURN = "loan.return"
    #: a return whose pages did not tally, settled (the mismatch recorded)
    LOAN_SETTLE = "loan.settle"
    LOAN_REMIND = "loan.remind"
    GRANT_ISSUE = "grant.issue"
    GRANT_REVOKE = "grant.revoke"

    # -- deletion with its 30-day hold, and destruction at the end of retention (item 4)
    DELETION_REQUEST = "deletion.request"
    DELETION_APPROVE = "deletion.approve"
    DELETION_REJECT = "deletion.reject"
    DELETION_UNDO = "deletion.undo"
    #: the hold ended: the item tombstoned by the scheduled purge (actor ``system``)
    DELETION_FINAL = "deletion.final"
    DESTRUCTION_APPRAISE = "destruction.appraise"
    DESTRUCTION_APPROVE = "destruction.approve"
    DESTRUCTION_REJECT = "destruction.reject"
    DESTRUCTION_CONFIRM = "destruction.confirm"

    # -- keeping records trustworthy: the four-property check (四性检测, issue 14 item 6);
    #: target ``item:ID``, ``batch:ID`` (a batch import's entry) or ``archive``; detail: scope,
    #: counts checked, skipped and failed per property. Its export is a ``report.export``.
    PRESERVATION_CHECK = "preservation.check"

    # -- personal data (item 6)
    ITEM_ID_COPY_FLAG = "item.id_copy_flag"

    # -- the archive as a whole (issue 14)
    #: an embedded archive moved onto the production settings (`dangan migrate`); recorded
    #: on the target once every row and object is copied and verified; detail: counts, source
    ARCHIVE_MIGRATE = "archive.migrate"


#: Names entries were written with before this vocabulary, and the action each means now.
LEGACY_NAMES: dict[str, AuditAction] = {
    "login": AuditAction.AUTH_LOGIN,
    "login_failed": AuditAction.AUTH_LOGIN_FAILED,
    "logout": AuditAction.AUTH_LOGOUT,
    "password_confirm": AuditAction.AUTH_PASSWORD_CONFIRM,
    "password_confirm_failed": AuditAction.AUTH_PASSWORD_CONFIRM_FAILED,
    "password_changed": AuditAction.AUTH_PASSWORD_CHANGE,
    "token_issued": AuditAction.AUTH_TOKEN_ISSUE,
    "view": AuditAction.ITEM_VIEW,
    "download": AuditAction.FILE_DOWNLOAD,
    "ingest": AuditAction.ITEM_INGEST,
    "import": AuditAction.BATCH_IMPORT,
    "crosscheck": AuditAction.ITEM_CROSSCHECK,
    "user.create": AuditAction.USER_ADD,
}

#: The reading actions: content shown, handed out or printed (statistics count these).
READS: frozenset[AuditAction] = frozenset({
    AuditAction.CATALOGUE_SEARCH, AuditAction.CATALOGUE_EXPORT, AuditAction.ITEM_VIEW,
    AuditAction.PAGE_VIEW, AuditAction.FILE_DOWNLOAD, AuditAction.BOX_PRINT,
    AuditAction.REGISTER_PRINT, AuditAction.REPORT_EXPORT, AuditAction.STATS_EXPORT})


def stored_names(action: AuditAction | str) -> tuple[str, ...]:
    """Every name an entry of `action` may carry: today's and the legacy ones."""
    return (str(action), *sorted(k for k, v in LEGACY_NAMES.items() if v == action))


def current_name(stored: str) -> str:
    """Today's name of a stored action (a legacy name mapped, anything else unchanged)."""
    return str(LEGACY_NAMES.get(stored, stored))
