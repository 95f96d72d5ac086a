"""Personal data in OCR text: resident ID numbers and mobile numbers are masked for users
without the right to see them (DESIGN: Privacy).

Masking replaces characters one for one with `*`, so offsets into the text (snippets,
highlight spans) stay valid.
"""

from __future__ import annotations

import re

from .access import ALL_ROLES_SEE
from .models import User

#: 18-digit resident ID: region (6), birth date (8), sequence (3), check digit or X.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])(\d{3})(\d{3}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(\d{3}[\dXx])(?![0-9A-Za-z])")
#: Mainland mobile numbers, optionally with +86 / 86 in front.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})(?!\d)")

#: The archive's own roles, who work with the full record, see personal data too.
PERSONAL_DATA_ROLES = ALL_ROLES_SEE


def can_see_personal(user: User | None) -> bool:
    return user is not None and user.role in PERSONAL_DATA_ROLES


def mask_personal(text: str) -> str:
    """`110105199003078765` → `110***********8765`, `13812345678` → `138****5678`."""
    text = _RESIDENT_ID.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)
    return _MOBILE.sub(lambda m: m[1] + "****" + m[3], text)


def text_for(user: User | None, text: str | None) -> str | None:
    """Page text as this user may read it."""
    if text is None or can_see_personal(user):
        return text
    return mask_personal(text)
