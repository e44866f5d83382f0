"""The campus login pages: CAS 2.0/3.0 (python-cas validates service tickets over HTTP) and OpenID
Connect (Authlib's client: authorization code with PKCE, the ID token's signature, audience, expiry
and nonce checked by Authlib). Single logout both ways: LabSafe's logout ends the provider's
session, and a CAS back-channel logout (a SAML LogoutRequest) ends LabSafe's.

Every refusal is a page with a 4xx status and a line in the audit log ("sso_refused", its reason).
"""
from __future__ import annotations

import ipaddress
import logging
import secrets
from urllib.parse import urlencode, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from cas import CASClient
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc.errors import JoseError
from lxml import etree

from app.db import write_lock_at_first_write, writes_on_get
from app.extensions import csrf, db

from . import language, sso
from .audit import audit
from .sessions import start_session
from .views import landing_url, safe_next

bp = Blueprint("auth_sso", __name__)

SSO_KEY = sso.SSO_KEY
_CAS_STATE, _NEXT = "_ls_cas_state", "_ls_sso_next"
_SAML_NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
# The back-channel logout body: a small SAML document; anything larger is not CAS's.
_MAX_LOGOUT_REQUEST = 16 * 1024
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _TimeoutSession(requests.Session):
    """python-cas's HTTP session, with a timeout on every call (python-cas passes none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def _service_url(state: str) -> str:
    """The CAS service: the callback, with this login's state (CAS has none of its own)."""
    return f"{_base_url()}{url_for('auth_sso.cas_callback')}?{urlencode({'s': state})}"


def _cas_client(service_url: str | None = None):
    config = current_app.config
    server = config["CAS_SERVER_URL"]
    return CASClient(version=int(config["CAS_VERSION"]), service_url=service_url,
                     server_url=server if server.endswith("/") else server + "/",
                     session=_TimeoutSession(float(config["SSO_TIMEOUT_SECONDS"])))


def _oidc():
    """Authlib's client for this app's provider, made once per app and settings."""
    config = current_app.config
    key = (config["OIDC_DISCOVERY_URL"], config["OIDC_CLIENT_ID"])
    holder = current_app.extensions.setdefault("labsafe_oidc", {})
    if key not in holder:
        oauth = OAuth(current_app)
        holder[key] = oauth.register(
            "campus", client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"] or None,
            server_metadata_url=config["OIDC_DISCOVERY_URL"],
            client_kwargs={"scope": config["OIDC_SCOPE"], "code_challenge_method": "S256",
                           "timeout": float(config["SSO_TIMEOUT_SECONDS"])})
    return holder[key]


def _refuse(protocol: str, reason: str, status: int = 403, message: str | None = None, **fields):
    """The clear page for a refused campus login, logged."""
    audit("sso_refused", level=logging.WARNING, protocol=protocol, reason=reason, **fields)
    db.session.rollback()
    unknown = reason in ("unknown_account", "no_match_attribute", "ambiguous_email", "inactive")
    if message is None:
        message = (_("Your campus account has no access to LabSafe yet. Ask your lab-management office for access.")
                   if unknown else _("The campus login could not be completed. Please try again."))
    return render_template("auth/sso_refused.html", message=message, unknown=unknown, reason=reason), status


def _unreachable(protocol: str, err: Exception):
    audit("sso_provider_unreachable", level=logging.WARNING, protocol=protocol, error=type(err).__name__)
    db.session.rollback()
    message = _("The campus identity service cannot be reached. Please try again in a moment.")
    return render_template("auth/sso_refused.html", message=message, unknown=False, reason="unreachable"), 503


def _remember_next() -> None:
    session[_NEXT] = safe_next(request.args.get("next"), "")


def _log_in(who: sso.CampusIdentity, ticket: str, id_token: str | None = None):
    """Match the campus account, record the SSO session, start LabSafe's session; or the refusal."""
    config = current_app.config
    try:
        user = sso.find_user(who, config["SSO_MATCH_BY"])
    except sso.SsoRefused as err:
        return _refuse(who.protocol, err.reason, subject=who.subject)
    if user is None and config["SSO_PROVISION"]:
        try:
            user = sso.provision(who, config["SSO_MATCH_BY"])
        except sso.SsoRefused as err:
            return _refuse(who.protocol, err.reason, subject=who.subject)
        audit("sso_user_provisioned", user_id=user.id, protocol=who.protocol, subject=who.subject)
    if user is None:
        return _refuse(who.protocol, "unknown_account", subject=who.subject)
    if not user.active:
        return _refuse(who.protocol, "inactive", user_id=user.id, subject=who.subject)
    try:
        sso_id = sso.record_session(user.id, who.protocol, ticket, id_token=id_token)
    except sso.SsoRefused as err:
        return _refuse(who.protocol, err.reason, status=400, subject=who.subject)
    db.session.commit()
    target = session.get(_NEXT) or ""
    start_session(user)  # a new session (no fixation); clears the login's state
    session[SSO_KEY] = sso_id
    audit("sso_login", user_id=user.id, protocol=who.protocol, subject=who.subject)
    response = redirect(safe_next(target, landing_url(user)))
    language.remember_at_login(user, response)
    return response


# --- CAS ---------------------------------------------------------------------------------------


@bp.get("/login/cas")
def cas_login():
    if "cas" not in sso.enabled_protocols(current_app.config):
        return _refuse("cas", "not_configured", status=404, message=_("The campus login is not set up on this site."))
    state = secrets.token_urlsafe(24)
    session[_CAS_STATE] = state
    _remember_next()
    return redirect(_cas_client(_service_url(state)).get_login_url())


@bp.route("/login/cas/callback", methods=["GET", "POST"])
@writes_on_get  # the CAS redirect back is a GET that logs in (its state checked, below)
@write_lock_at_first_write  # the ticket is validated over HTTP before the one short write
@csrf.exempt  # the CAS server POSTs its back-channel logout here; a GET carries no change but the login
def cas_callback():
    if "cas" not in sso.enabled_protocols(current_app.config):
        return _refuse("cas", "not_configured", status=404, message=_("The campus login is not set up on this site."))
    if request.method == "POST":
        return _cas_back_channel_logout()
    ticket, state = request.args.get("ticket", ""), request.args.get("s", "")
    expected = session.pop(_CAS_STATE, None)
    if not expected or not secrets.compare_digest(state.encode(), expected.encode()):
        return _refuse("cas", "bad_state", status=400)  # not the login this browser started
    if not ticket or len(ticket) > 256:
        return _refuse("cas", "no_ticket", status=400)
    try:
        user, attributes, _pgt = _cas_client(_service_url(expected)).verify_ticket(ticket)
    except requests.RequestException as err:
        return _unreachable("cas", err)
    except (etree.Error, ValueError, IndexError, AttributeError):  # not a CAS answer (ElementTree's ParseError)
        return _refuse("cas", "bad_validation_response", status=400)
    if not user:  # CAS answered authenticationFailure: forged, replayed, expired or another service's
        return _refuse("cas", "ticket_invalid", status=400)
    config = current_app.config
    who = sso.identity("cas", user, attributes or {}, staff_no_key=config["CAS_ATTRIBUTE_STAFF_NO"],
                       email_key=config["CAS_ATTRIBUTE_EMAIL"], name_key=config["CAS_ATTRIBUTE_NAME"])
    return _log_in(who, ticket)


def _logout_sender_allowed() -> bool:
    allowed = [a.strip() for a in (current_app.config.get("CAS_LOGOUT_FROM") or "").split(",") if a.strip()]
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(a, strict=False) for a in allowed)


def _cas_back_channel_logout():
    """CAS single logout: the server POSTs a SAML LogoutRequest whose SessionIndex is the service
    ticket of the login; the LabSafe session that ticket opened ends (its cookie stops working)."""
    if not _logout_sender_allowed():
        audit("sso_logout_refused", level=logging.WARNING, protocol="cas", reason="address")
        return {"error": "forbidden", "message": _("Not a CAS server of this site.")}, 403
    body = request.form.get("logoutRequest", "")
    index = None
    if 0 < len(body) <= _MAX_LOGOUT_REQUEST:
        try:
            found = etree.fromstring(body.encode(), parser=_SAFE_XML).xpath("//samlp:SessionIndex", namespaces=_SAML_NS)
            index = (found[0].text or "").strip() if found else None
        except etree.Error:
            index = None
    if not index:
        audit("sso_logout_refused", level=logging.WARNING, protocol="cas", reason="malformed")
        return {"error": "invalid", "message": _("Not a SAML LogoutRequest with a session index.")}, 400
    user_id = sso.end_session_by_ticket(index, "cas_back_channel")
    db.session.commit()
    audit("sso_back_channel_logout", user_id=user_id, protocol="cas", ended=user_id is not None)
    return {"ended": user_id is not None}, 200


# --- OpenID Connect ----------------------------------------------------------------------------


@bp.get("/login/oidc")
def oidc_login():
    if "oidc" not in sso.enabled_protocols(current_app.config):
        return _refuse("oidc", "not_configured", status=404, message=_("The campus login is not set up on this site."))
    _remember_next()
    try:  # Authlib keeps the state, nonce and PKCE verifier in the session; S256 challenge
        return _oidc().authorize_redirect(f"{_base_url()}{url_for('auth_sso.oidc_callback')}")
    except requests.RequestException as err:  # the discovery document
        return _unreachable("oidc", err)


_CLAIM_REASONS = {"aud": "wrong_audience", "azp": "wrong_audience", "iss": "wrong_issuer", "nonce": "bad_nonce",
                  "exp": "expired_token"}


def _oidc_reason(err: Exception) -> str:
    """What the audit log records for a refused OIDC callback."""
    name = type(err).__name__
    claim = getattr(err, "claim_name", None)  # Authlib's InvalidClaimError
    if claim in _CLAIM_REASONS:
        return _CLAIM_REASONS[claim]
    text = str(err).lower()
    if "state" in text or name == "MismatchingStateError":
        return "bad_state"
    if "nonce" in text:
        return "bad_nonce"
    if "expired" in text or name == "ExpiredTokenError":
        return "expired_token"
    if "aud" in text:
        return "wrong_audience"
    if "signature" in text or name in ("BadSignatureError", "InvalidKeyIdError"):
        return "bad_signature"
    if "iss" in text:
        return "wrong_issuer"
    return f"oidc_error:{name}"


@bp.get("/login/oidc/callback")
@writes_on_get  # the provider's redirect back is a GET that logs in (Authlib checks its state)
@write_lock_at_first_write  # the code is exchanged and the ID token checked before the one short write
def oidc_callback():
    if "oidc" not in sso.enabled_protocols(current_app.config):
        return _refuse("oidc", "not_configured", status=404, message=_("The campus login is not set up on this site."))
    if request.args.get("error"):
        return _refuse("oidc", "provider_error", status=400, error=request.args.get("error", "")[:64])
    try:
        client = _oidc()
        # Authlib checks the state, sends the PKCE verifier, and checks the ID token's signature
        # (the JWKS), expiry and nonce; the issuer and the audience (this client) are named here:
        # by default it checks the audience only through `azp`.
        issuer = client.load_server_metadata().get("issuer")
        token = client.authorize_access_token(claims_options={
            "iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [current_app.config["OIDC_CLIENT_ID"]]}})
    except requests.RequestException as err:
        return _unreachable("oidc", err)
    except (AuthlibBaseError, JoseError, ValueError) as err:
        return _refuse("oidc", _oidc_reason(err), status=400, error=type(err).__name__)
    claims, id_token = token.get("userinfo"), token.get("id_token")
    if not claims or not id_token:
        return _refuse("oidc", "no_id_token", status=400)
    config = current_app.config
    who = sso.identity("oidc", claims.get("sub", ""), dict(claims), staff_no_key=config["OIDC_CLAIM_STAFF_NO"],
                       email_key=config["OIDC_CLAIM_EMAIL"], name_key=config["OIDC_CLAIM_NAME"])
    return _log_in(who, "oidc:" + id_token, id_token=id_token)


# --- logout and the session's liveness ---------------------------------------------------------


def provider_logout_url(sso_session_id) -> str | None:
    """LabSafe's logout: end this device's SSO session and answer where the provider ends its own
    (CAS /logout?service=, OIDC end_session_endpoint with id_token_hint), or None."""
    if not isinstance(sso_session_id, int):
        return None
    row = sso.end_session(sso_session_id, "logout")
    db.session.commit()
    if row is None:
        return None
    back = f"{_base_url()}{url_for('auth.login')}"
    try:
        if row.protocol == "cas" and "cas" in sso.enabled_protocols(current_app.config):
            return _cas_client(back).get_logout_url(redirect_url=back)
        if row.protocol == "oidc" and "oidc" in sso.enabled_protocols(current_app.config):
            return _oidc().create_logout_url(post_logout_redirect_uri=back, id_token_hint=row.id_token)["url"]
    except (RuntimeError, requests.RequestException) as err:  # no end_session_endpoint; provider down
        audit("sso_logout_local_only", level=logging.WARNING, protocol=row.protocol, error=type(err).__name__)
    return None


def _end_revoked_sessions():
    """A session whose SSO session was ended by the provider (back channel) is cleared before the
    view runs: one primary-key read, only for sessions that came through SSO."""
    sso_id = session.get(SSO_KEY)
    if sso_id is None or "_user_id" not in session or request.endpoint == "static":
        return None
    if sso.session_ended(sso_id):
        user_id = str(session.get("_user_id", "")).split(":", 1)[0]
        session.clear()
        audit("session_expired", user_id=int(user_id) if user_id.isdigit() else None, reason="sso_logout")
    return None


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _provider_origins(config) -> list[str]:
    """The origins the campus login's forms are redirected to (the login button, the logout)."""
    urls = [config.get("CAS_SERVER_URL"), config.get("OIDC_DISCOVERY_URL")]
    for client in current_app.extensions.get("labsafe_oidc", {}).values():
        metadata = getattr(client, "server_metadata", None) or {}
        urls += [metadata.get("authorization_endpoint"), metadata.get("end_session_endpoint")]
    return list(dict.fromkeys(o for o in map(_origin, urls) if o))


def _allow_provider_forms(response):
    """CSP form-action also binds the redirects after a form (Chromium): the campus login button and
    the logout form end at the provider, whose origin is added to the page's form-action."""
    policy = response.headers.get("Content-Security-Policy")
    if not policy or "form-action 'self'" not in policy or not sso.enabled_protocols(current_app.config):
        return response
    origins = _provider_origins(current_app.config)
    if origins:
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", "form-action 'self' " + " ".join(origins), 1)
    return response


@bp.record_once
def _install(state):
    sso.check_settings(state.app.config)
    # Registered before app.security's headers (blueprints come first), so run after them.
    state.app.after_request(_allow_provider_forms)
    # First, with the timeouts (sessions.init_app): nothing may load current_user before.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _end_revoked_sessions)
