"""The 密级 and status badges are Python functions (web.labels), not template macros: the same
markup, escaped as a template escapes, in the user's language, from any template."""

from flask import render_template_string, session

from service.vocab import Secrecy
from web.labels import secrecy_badge, status_badge

CLASSES = {Secrecy.PUBLIC: "public", Secrecy.INTERNAL: "internal", Secrecy.SECRET: "secret",
           Secrecy.CONFIDENTIAL: "confidential", Secrecy.TOP_SECRET: "topsecret"}


def test_secrecy_badge_classes_and_labels(app):
    with app.test_request_context("/"):
        for level, css in CLASSES.items():
            assert secrecy_badge(level) == (
                f'<span class="badge secrecy secrecy-{css}">{level.value}</span>')
    with app.test_request_context("/"):
        session["lang"] = "en"
        app.preprocess_request()  # the request's translations looked up afresh
        assert secrecy_badge("机密") == '<span class="badge secrecy secrecy-confidential">' \
            'Confidential</span>'
        # a value outside the vocabulary: shown as stored, escaped
        assert secrecy_badge("<b>") == \
            '<span class="badge secrecy secrecy-other">&lt;b&gt;</span>'


def test_status_badge_escapes(app):
    with app.test_request_context("/"):
        assert status_badge("a\"b", "x<y") == \
            '<span class="badge status status-a&#34;b">x&lt;y</span>'


def test_badges_are_template_globals(app):
    """Every template calls them without importing anything; the output is markup, not
    escaped again."""
    with app.test_request_context("/"):
        html = render_template_string("{{ secrecy_badge(s) }}{{ status_badge('ready', l) }}",
                                      s="内部", l="已完成")
    assert html == ('<span class="badge secrecy secrecy-internal">内部</span>'
                    '<span class="badge status status-ready">已完成</span>')
