"""Who may do what: the archive's one access policy (PREAMBLE "The policy everyone codes
against"; DESIGN "Rules from the archive's regulations").

Two questions are asked of every item, by every path (search, pages, files, API, CLI,
exports, paperwork, the cross-check desk):

- *look up* (`may_look_up`): the catalogue entry (档号, title, where the paper is) may be
  listed and shown, so that a loan can be requested. Within the user's scope: the archive's
  own roles (administrator, archive manager, executive, archivist, records officer) cover
  every customer file, a department manager the department's, staff the files they own.
  绝密 is never shown electronically, to anyone.
- *open* (`may_open`, with the reason of a denial from `open_decision`): the content (text,
  page images, thumbnails, snippets). 公开/内部 within scope; 秘密 directly for the
  archive's roles (custodians, audited) and for staff and department managers only under a
  live viewing grant of an approved electronic loan (which opens an item whatever its
  scope); 机密 only on screen at a registered reading-room workstation, for the archive's
  roles; 绝密 never.
- *export* (`may_export`): the content may leave the screen (download of an original or
  the searchable PDF, full text in the API or CLI, print): never 机密 or 绝密, and not what
  is only lent for viewing.

Who asks is a `Reader`: the user, the time (service.clock) and whether the request comes
from a registered reading-room workstation. A plain `User` stands for that user outside the
reading room, now; None is nobody signed in. The search engines get the same rule as a
`Visibility` (`search_visibility` for the text, `lookup_visibility` for the catalogue).

The package, one job a module; callers import the names from `service.access`:

- `roles`: the role groups and the rights that hang on the role alone;
- `reader`: who asks (`Reader`, `Who`) and their live viewing grants;
- `visibility`: what searches and listings may reach (`Visibility`, SQL), disposal hiding;
- `decision`: a decision with the reason and remedy of each denial;
- `items`: look up, open and export one item, `handling` by 密级, item-level rights;
- `personal`: the privacy right, ID copies, unmasked copies;
- `listing`: titles withheld in lists of the paper side;
- `requests`: nobody decides their own request; catalogue change approval;
- `loans`, `disposal`, `registering`: lending, deletion and destruction, registering items.
"""

from __future__ import annotations

from .decision import (
    ALLOW,
    DENY_CONFIDENTIAL,
    DENY_LENT_FOR_VIEWING,
    DENY_LOAN,
    DENY_READING_ROOM,
    DENY_SCOPE,
    DENY_SIGN_IN,
    DENY_TOP_SECRET,
    Decision,
)
from .disposal import (
    APPRAISE_ROLES,
    CONFIRM_DESTRUCTION_ROLES,
    DELETION_APPROVE_ROLES,
    DELETION_REQUEST_ROLES,
    EXECUTIVE_APPROVES,
    can_appraise,
    can_approve_deletion,
    can_approve_destruction,
    can_confirm_destruction,
    can_request_deletion,
    can_see_disposal,
    destruction_approver,
    require_appraise,
    require_approve_deletion,
    require_approve_destruction,
    require_confirm_destruction,
    require_request_deletion,
    require_see_disposal,
    require_undo_deletion,
)
from .items import (
    Handling,
    can_download,
    can_edit_item,
    can_repair_files,
    can_rescan,
    can_view,
    export_decision,
    handling,
    may_cache,
    may_export,
    may_look_up,
    may_open,
    needs_watermark,
    open_decision,
    require_edit_item,
    require_export,
    require_open,
    require_repair_files,
    require_rescan,
    require_view,
)
from .listing import (
    WITHHELD_TITLE,
    listed_level_title,
    listed_title,
)
from .loans import (
    LENDING_DESK_ROLES,
    LOAN_REGISTER_ROLES,
    can_approve_loans,
    can_lend,
    can_read_loan_register,
    can_return_loan,
    can_see_loan,
    loan_approval_refusal,
    loan_approver_role,
    require_approve_loan,
    require_lend,
    require_loan_register,
    require_return_loan,
)
from .personal import (
    DENY_ID_COPIES,
    can_see_personal,
    id_copies_decision,
    privacy_right_by_role,
    require_register_id_copies,
    require_unmasked_copy,
)
from .reader import (
    Reader,
    Who,
    is_custodian,
    live_grants,
    reader_of,
    user_of,
    with_grants,
)
from .registering import (
    registered_owner,
    registrable_secrecy,
    require_register,
)
from .requests import (
    can_approve_change,
    can_withdraw_change,
    own_request,
    require_approve_change,
)
from .roles import (
    ADMIN_ROLES,
    ALL_ROLES_SEE,
    AUDIT_ROLES,
    CHECK_ROLES,
    FILE_REPAIR_ROLES,
    FOUR_PROPERTY_ROLES,
    MANAGE_ROLES,
    SCHEME_ROLES,
    STATISTICS_ROLES,
    TWO_SET_REPORT_ROLES,
    can_check_four_properties,
    can_cross_check,
    can_handle_rescans,
    can_manage_locations,
    can_manage_scheme,
    can_manage_users,
    can_print_labels,
    can_read_audit,
    can_read_statistics,
    can_read_two_set_report,
    require_cross_check,
    require_four_properties,
    require_manage,
    require_manage_scheme,
    require_manage_users,
    require_print_labels,
    require_read_audit,
    require_statistics,
    require_two_set_report,
)
from .visibility import (
    CUSTODIAN_OPEN,
    GRANT_LEVELS,
    NARROW,
    SCOPE_OPEN,
    WIDE,
    can_see_customer,
    disposal_hidden_clause,
    findable_secrecy_levels,
    in_disposal,
    lookup_visibility,
    operator_search_visibility,
    operator_visibility,
    search_visibility,
    visibility_for,
    visible_clause,
    visible_under,
)

__all__ = [
    "ADMIN_ROLES",
    "ALLOW",
    "ALL_ROLES_SEE",
    "APPRAISE_ROLES",
    "AUDIT_ROLES",
    "CHECK_ROLES",
    "CONFIRM_DESTRUCTION_ROLES",
    "CUSTODIAN_OPEN",
    "DELETION_APPROVE_ROLES",
    "DELETION_REQUEST_ROLES",
    "DENY_CONFIDENTIAL",
    "DENY_ID_COPIES",
    "DENY_LENT_FOR_VIEWING",
    "DENY_LOAN",
    "DENY_READING_ROOM",
    "DENY_SCOPE",
    "DENY_SIGN_IN",
    "DENY_TOP_SECRET",
    "Decision",
    "EXECUTIVE_APPROVES",
    "FILE_REPAIR_ROLES",
    "FOUR_PROPERTY_ROLES",
    "GRANT_LEVELS",
    "Handling",
    "LENDING_DESK_ROLES",
    "LOAN_REGISTER_ROLES",
    "MANAGE_ROLES",
    "NARROW",
    "Reader",
    "SCHEME_ROLES",
    "SCOPE_OPEN",
    "STATISTICS_ROLES",
    "TWO_SET_REPORT_ROLES",
    "WIDE",
    "WITHHELD_TITLE",
    "Who",
    "can_appraise",
    "can_approve_change",
    "can_approve_deletion",
    "can_approve_destruction",
    "can_approve_loans",
    "can_check_four_properties",
    "can_confirm_destruction",
    "can_cross_check",
    "can_download",
    "can_edit_item",
    "can_handle_rescans",
    "can_lend",
    "can_manage_locations",
    "can_manage_scheme",
    "can_manage_users",
    "can_print_labels",
    "can_read_audit",
    "can_read_loan_register",
    "can_read_statistics",
    "can_read_two_set_report",
    "can_repair_files",
    "can_request_deletion",
    "can_rescan",
    "can_return_loan",
    "can_see_customer",
    "can_see_disposal",
    "can_see_loan",
    "can_see_personal",
    "can_view",
    "can_withdraw_change",
    "destruction_approver",
    "disposal_hidden_clause",
    "export_decision",
    "findable_secrecy_levels",
    "handling",
    "id_copies_decision",
    "in_disposal",
    "is_custodian",
    "listed_level_title",
    "listed_title",
    "live_grants",
    "loan_approval_refusal",
    "loan_approver_role",
    "lookup_visibility",
    "may_cache",
    "may_export",
    "may_look_up",
    "may_open",
    "needs_watermark",
    "open_decision",
    "operator_search_visibility",
    "operator_visibility",
    "own_request",
    "privacy_right_by_role",
    "reader_of",
    "registered_owner",
    "registrable_secrecy",
    "require_appraise",
    "require_approve_change",
    "require_approve_deletion",
    "require_approve_destruction",
    "require_approve_loan",
    "require_confirm_destruction",
    "require_cross_check",
    "require_edit_item",
    "require_export",
    "require_four_properties",
    "require_lend",
    "require_loan_register",
    "require_manage",
    "require_manage_scheme",
    "require_manage_users",
    "require_open",
    "require_print_labels",
    "require_read_audit",
    "require_register",
    "require_register_id_copies",
    "require_repair_files",
    "require_request_deletion",
    "require_rescan",
    "require_return_loan",
    "require_see_disposal",
    "require_statistics",
    "require_two_set_report",
    "require_undo_deletion",
    "require_unmasked_copy",
    "require_view",
    "search_visibility",
    "user_of",
    "visibility_for",
    "visible_clause",
    "visible_under",
    "with_grants",
]
