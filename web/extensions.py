"""The Flask extensions shared by the application factory and the blueprints.

They live here, apart from `web.app`, so a blueprint that needs one (the API checks CSRF
itself for cookie-authenticated writes) imports this module and never the factory.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
