"""Sign-in for the pages: a session cookie per person, pages closed to everyone else."""

from __future__ import annotations

import hmac
import math
import secrets
from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from dashboard.api.access import allow
from dashboard.sessions import LIFETIME
from dispatch.access.credentials import AuthError
from dispatch.access.lockout import SignInLocked
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor, Role

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
        if not _csrf_ok(request.cookies.get(CSRF_COOKIE, ""), request.form.get("csrf", "")):
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
                current_app.session_interface.regenerate(session)  # no fixation
                login_user(User(actor))
                runtime.sessions.held(actor.name, session.sid, ttl_s=SESSION_TTL_S)
                target = _safe_next(request.form.get("next", "/"))
                if target == "/" and actor.role is Role.WORKER:
                    target = "/m/"  # a grid worker's page is the phone page
                answer = redirect(target)
                answer.delete_cookie(CSRF_COOKIE, path="/login")
                return answer
            except SignInLocked as exc:
                error, status = f"登录已暂停 · {exc}", 429
                headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
            except AuthError as exc:
                guard.failed(**who, address=address)
                error = f"登录失败 · {exc}"
    # Double-submit: a signed token in a cookie and in the form. No server state is made for
    # a visitor who has not signed in; a second tab keeps the token the first one got.
    token = request.cookies.get(CSRF_COOKIE, "")
    if not _signer().loads_ok(token):
        token = _signer().dumps(secrets.token_urlsafe(16))
    page = make_response(render_template(
        "login.html", centre=centre, error=error, username=username,
        **_words(runtime.settings), csrf=token,
        nxt=_safe_next(request.args.get("next", request.form.get("next", "/")))),
        status if status != 200 else 401 if error else 200, headers)
    page.set_cookie(CSRF_COOKIE, token, max_age=CSRF_MAX_AGE_S, httponly=True, path="/login",
                    samesite="Strict", secure=bool(current_app.config["SESSION_COOKIE_SECURE"]))
    return page


@bp.post("/logout")  # never GET: a link or an image on another site must not sign anyone out
@allow(Permission.PUBLIC)
def logout():
    """Ends the session in Redis too: a copy of the cookie is worth nothing afterwards."""
    if current_user.is_authenticated:
        current_app.extensions["grid_dispatch"].sessions.forget(current_user.id, session.sid)
    logout_user()
    session.clear()
    return redirect("/login")


CSRF_COOKIE = "login_csrf"
CSRF_MAX_AGE_S = 3600
SESSION_TTL_S = int(LIFETIME.total_seconds())


class _Tokens(URLSafeTimedSerializer):
    def loads_ok(self, token: str) -> bool:
        try:
            self.loads(token, max_age=CSRF_MAX_AGE_S)
        except BadData:
            return False
        return True


def _signer() -> _Tokens:
    return _Tokens(current_app.secret_key, salt="login-csrf")


def _csrf_ok(cookie: str, form: str) -> bool:
    """The form's token is the cookie's, and the cookie's is ours and fresh."""
    return bool(cookie) and hmac.compare_digest(cookie, form) and _signer().loads_ok(cookie)


@bp.get("/logout")
@allow(Permission.PUBLIC)
def logout_by_link():
    """Answered, so the page router does not serve a page here; signs nobody out."""
    return "sign out with a POST (the page's button)", 405, {"Allow": "POST"}
