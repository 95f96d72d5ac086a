"""The top bar's links, rendered once per role's links, language and page.

Every page shows the same ~17 links for the same user; built in the page they cost ~35
template calls (a translation and an address each), about a tenth of a millisecond a page.
They depend only on the variables named here, so the rendered bar is kept per process by
their values (a few kilobytes for each combination of the links a role has, the language
and the page's endpoint: bounded by the routes).
"""

from __future__ import annotations

from flask import current_app, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

#: What `_nav.html` reads besides the environment's globals (translations, `fixed_url`):
#: the links the user may follow (the context processors' ``can_*``) and the language.
#: tests/web/test_top_nav.py fails if the template reads anything else.
NAV_VARIABLES = ("current_lang", "can_manage", "can_manage_users", "can_manage_scheme",
                 "can_report", "can_disposal", "can_four_properties", "can_audit",
                 "can_desk", "can_lend", "can_statistics")


@pass_context
def top_nav(context: Context) -> Markup:
    """The ``<nav>`` of the top bar for this page (``ep``: its endpoint, the current link)."""
    values = {name: context.get(name) for name in NAV_VARIABLES}
    endpoint = request.endpoint or ""
    key = (request.script_root, endpoint, *values.values())
    cache: dict[tuple, Markup] = current_app.extensions.setdefault("dangan_top_nav", {})
    html = cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("_nav.html")
        html = cache[key] = Markup(template.render(ep=endpoint, **values))
    return html

