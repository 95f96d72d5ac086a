"""`web.ctx.signed_in`: the user a view behind @login_required acts for, never None."""

from __future__ import annotations

import pytest

from tests.web.conftest import user_id


def test_a_visitor_gets_401_not_none(app) -> None:
    from werkzeug.exceptions import Unauthorized

    from web.ctx import me, signed_in

    with app.test_request_context("/"):
        assert me() is None
        with pytest.raises(Unauthorized):
            signed_in()


def test_the_signed_in_user_is_the_catalogue_row(app, archive) -> None:
    from flask_login import login_user

    from service.models import User
    from web.ctx import WebUser, db, signed_in

    with app.test_request_context("/"):
        row = db().get(User, user_id(archive, "alice"))
        assert row is not None
        login_user(WebUser(row))
        assert signed_in() is row
