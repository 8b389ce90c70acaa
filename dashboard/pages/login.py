"""Sign-in for the pages: a session cookie per person, pages closed to everyone else."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from flask import Blueprint, current_app, g, redirect, render_template_string, request, session
from flask_login import LoginManager, UserMixin, login_user, logout_user

from dispatch.access.credentials import PAGE_ROLES, AuthError

bp = Blueprint("login", __name__)

#: Paths anyone may reach: sign-in, static files, health, and channels with their own auth.
PUBLIC_PREFIXES = ("/login", "/logout", "/assets/", "/_dash-component-suites/", "/healthz",
                   "/api/", "/open311/", "/report", "/openapi.json", "/_favicon.ico",
                   "/favicon.ico")


class User(UserMixin):
    def __init__(self, name: str, role: str, display: str = "") -> None:
        self.id = name
        self.role = role
        self.display = display or name


_OUTAGE = "grid_dispatch_outage"


def signed_out_for_this_request() -> None:
    """Answering an outage: the rest of this request sees no one signed in, so a page it
    renders (templates ask for the user) does not ask Redis again and fail as a 500."""
    g.setdefault(_OUTAGE, True)


def install(server) -> None:
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def load(name: str):
        """The signed-in user; Redis failing raises StoreError, which the app answers 503."""
        if g.get(_OUTAGE):
            return None
        actor = current_app.extensions["grid_dispatch"].auth.user(name)
        return User(actor.name, actor.role.value) if actor else None

    @server.before_request
    def guard():
        from flask_login import current_user

        path = request.path
        if path.startswith(PUBLIC_PREFIXES) or current_user.is_authenticated:
            return None
        if path.startswith("/_dash"):
            return ("sign in first", 401)
        return redirect(f"/login?next={path}")

    server.register_blueprint(bp)


_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ centre }} · {{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/theme.css"></head>
<body class="login-body"><form class="login-card" method="post" action="/login">
<h1>{{ centre }}</h1><p class="login-sub">{{ sub }}</p>
{% if error %}<p class="login-error" role="alert">{{ error }}</p>{% endif %}
<label>{{ user_label }}<input name="username" autocomplete="username" required autofocus
 value="{{ username }}"></label>
<label>{{ password_label }}<input name="password" type="password" autocomplete="current-password"
 required></label>
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ nxt }}">
<button type="submit">{{ button }}</button></form></body></html>"""


def _words(settings) -> dict[str, str]:
    """The page in the screen's language first, the other after it, as on the big screens."""
    if settings.language == "en":
        return {"lang": "en", "title": "Sign in", "sub": "Sign in · 请登录",
                "user_label": "User 用户名", "password_label": "Password 密码",
                "button": "Sign in 登录"}
    return {"lang": "zh", "title": "登录", "sub": "请登录 · Sign in", "user_label": "用户名 User",
            "password_label": "密码 Password", "button": "登录 Sign in"}


def _safe_next(value: str) -> str:
    parsed = urlparse(value or "/")
    return value if value.startswith("/") and not parsed.netloc and not value.startswith("//") \
        else "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    runtime = current_app.extensions["grid_dispatch"]
    settings = runtime.settings
    centre = settings.centre_name_en if settings.language == "en" else settings.centre_name
    error, username = "", ""
    if request.method == "POST":
        username = request.form.get("username", "")
        if request.form.get("csrf") != session.get("csrf"):
            error = "表单已过期，请重试 (form expired, try again)"
        else:
            try:
                actor = runtime.auth.check_password(username, request.form.get("password", ""))
                if actor.role not in PAGE_ROLES:
                    raise AuthError("this account may not sign in to the pages")
                login_user(User(actor.name, actor.role.value))
                return redirect(_safe_next(request.form.get("next", "/")))
            except AuthError as exc:
                error = f"登录失败 · {exc}"
    session["csrf"] = secrets.token_urlsafe(16)
    return render_template_string(_PAGE, centre=centre, error=error, username=username,
                                  **_words(runtime.settings),
                                  csrf=session["csrf"], nxt=_safe_next(request.args.get(
                                      "next", request.form.get("next", "/")))), \
        (401 if error else 200)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    logout_user()
    return redirect("/login")
