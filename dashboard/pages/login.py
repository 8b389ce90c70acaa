"""Sign-in for the pages: a session cookie per person, pages closed to everyone else."""

from __future__ import annotations

import hmac
import math
import secrets
from urllib.parse import urlparse

from flask import Blueprint, current_app, g, redirect, render_template, request, session
from flask_login import LoginManager, UserMixin, login_user, logout_user

from dashboard.api.access import allow
from dispatch.access.credentials import AuthError
from dispatch.access.lockout import SignInLocked
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor

bp = Blueprint("login", __name__)


class User(UserMixin):
    """The signed-in person as flask-login keeps them; ``actor`` is what the policy reads."""

    def __init__(self, actor: Actor) -> None:
        self.id = actor.name
        self.role = actor.role.value
        self.actor = actor


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
        return User(actor) if actor else None

    server.register_blueprint(bp)


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
@allow(Permission.PUBLIC)
def login():
    runtime = current_app.extensions["grid_dispatch"]
    settings = runtime.settings
    centre = settings.centre_name_en if settings.language == "en" else settings.centre_name
    error, username, status, headers = "", "", 200, {}
    if request.method == "POST":
        username = request.form.get("username", "")
        expected, given = session.get("csrf") or "", request.form.get("csrf") or ""
        if not expected or not hmac.compare_digest(expected, given):
            error = "表单已过期，请重试 (form expired, try again)"
        else:
            guard, who = runtime.sign_in_guard, {"account": username}
            address = request.remote_addr or "unknown"
            try:
                guard.check(**who, address=address)
                actor = runtime.auth.check_password(username, request.form.get("password", ""))
                if not permits(actor, Permission.PAGE_VIEW):
                    raise AuthError("this account may not sign in to the pages")
                guard.succeeded(**who)
                login_user(User(actor))
                return redirect(_safe_next(request.form.get("next", "/")))
            except SignInLocked as exc:
                error, status = f"登录已暂停 · {exc}", 429
                headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
            except AuthError as exc:
                guard.failed(**who, address=address)
                error = f"登录失败 · {exc}"
    if "csrf" not in session:  # one per session: a second tab or a stray request keeps it
        session["csrf"] = secrets.token_urlsafe(16)
    return render_template("login.html", centre=centre, error=error, username=username,
                           **_words(runtime.settings),
                           csrf=session["csrf"], nxt=_safe_next(request.args.get(
                               "next", request.form.get("next", "/")))), \
        (status if status != 200 else 401 if error else 200), headers


@bp.post("/logout")  # never GET: a link or an image on another site must not sign anyone out
@allow(Permission.PUBLIC)
def logout():
    logout_user()
    return redirect("/login")


@bp.get("/logout")
@allow(Permission.PUBLIC)
def logout_by_link():
    """Answered, so the page router does not serve a page here; signs nobody out."""
    return "sign out with a POST (the page's button)", 405, {"Allow": "POST"}
