"""A CAS server and an OpenID Connect provider for the tests, on 127.0.0.1 in ports 18500-18599.

Small servers that speak the real protocols (why not django-mama-cas / django-oidc-provider / pyop:
README "Campus login", "How it is tested"):

CAS (protocol 2.0 and 3.0): ``/login?service=`` redirects back with a service ticket ``ST-...``
for the account the test chose; ``/serviceValidate`` and ``/p3/serviceValidate`` answer the CAS XML
(``authenticationSuccess`` with attributes, or ``authenticationFailure`` INVALID_TICKET /
INVALID_SERVICE); tickets are single-use and bound to their service; ``/logout?service=`` is
recorded; ``logout_request(ticket)`` is the SAML LogoutRequest CAS POSTs to a service.

OpenID Connect: the discovery document, the JWKS (an RSA key), ``/authorize`` (code flow; PKCE
S256 required), ``/token`` (client_secret_basic or _post; the verifier checked against the
challenge; codes single-use) issuing RS256-signed ID tokens, ``/end_session``. ``tamper`` makes the
next ID token wrong in one way (audience, expiry, nonce, signature, issuer).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PORTS = range(18500, 18600)


def _serve(wsgi):
    """Serve ``wsgi`` on the first free port of the range (parallel test workers each take one)."""
    last = None
    for port in PORTS:
        try:
            server = make_server("127.0.0.1", port, wsgi, threaded=True)
        except (OSError, SystemExit) as err:  # werkzeug exits on a port in use (another test worker's)
            last = err
            continue
        thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"sso-test-{port}")
        thread.start()
        return server, thread
    raise RuntimeError(f"no free port in {PORTS}: {last}")


@contextmanager
def running(app_server):
    server, thread = _serve(app_server)
    app_server.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app_server
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class CasServer:
    """The campus CAS server."""

    def __init__(self):
        self.base = ""
        self.user = None  # (user name, {attribute: value}) the next /login logs in
        self.tickets: dict[str, dict] = {}  # ticket -> {service, user, attributes, used}
        self.logouts: list[str] = []  # the service= of each /logout
        self.validations: list[str] = []  # the paths validated on
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        req = Request(environ)
        path = req.path.rstrip("/")
        if path == "/cas/login":
            resp = self._login(req)
        elif path in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
            resp = self._validate(req, path)
        elif path == "/cas/logout":
            self.logouts.append(req.args.get("service", ""))
            target = req.args.get("service")
            resp = Response(status=302, headers={"Location": target}) if target else Response("logged out")
        else:
            resp = Response("not found", status=404)
        return resp(environ, start_response)

    def _login(self, req):
        service = req.args.get("service")
        if not service or self.user is None:
            return Response("CAS login form", status=200)
        ticket = "ST-" + secrets.token_urlsafe(24)
        name, attributes = self.user
        with self.lock:
            self.tickets[ticket] = {"service": service, "user": name, "attributes": attributes, "used": False}
        return Response(status=302, headers={"Location": _with_query(service, ticket=ticket)})

    def _validate(self, req, path):
        self.validations.append(path)
        ticket, service = req.args.get("ticket", ""), req.args.get("service", "")
        with self.lock:
            t = self.tickets.get(ticket)
            if t is None or t["used"]:
                return self._failure("INVALID_TICKET", f"Ticket {ticket} not recognized")
            t["used"] = True  # single use, even when the service is wrong (as CAS does)
        if t["service"] != service:
            return self._failure("INVALID_SERVICE", "Ticket was issued for another service")
        attrs = "".join(f"<cas:{k}>{escape(str(v))}</cas:{k}>" for k, v in t["attributes"].items())
        body = ('<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
                f"<cas:user>{escape(t['user'])}</cas:user><cas:attributes>{attrs}</cas:attributes>"
                "</cas:authenticationSuccess></cas:serviceResponse>")
        return Response(body, content_type="application/xml; charset=utf-8")

    @staticmethod
    def _failure(code, text):
        body = ('<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
                f'<cas:authenticationFailure code="{code}">{escape(text)}</cas:authenticationFailure>'
                "</cas:serviceResponse>")
        return Response(body, content_type="application/xml; charset=utf-8")

    @staticmethod
    def logout_request(ticket: str) -> str:
        """The SAML 2 LogoutRequest CAS POSTs (form field ``logoutRequest``) to the service."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-{uuid.uuid4().hex}" Version="2.0" '
                f'IssueInstant="{now}"><saml:NameID>@NOT_USED@</saml:NameID>'
                f"<samlp:SessionIndex>{escape(ticket)}</samlp:SessionIndex></samlp:LogoutRequest>")

    def issued(self) -> list[str]:
        return list(self.tickets)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcProvider:
    """The campus OpenID Connect provider."""

    def __init__(self, client_id="labsafe", client_secret="s3cret"):
        self.base = ""
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.claims: dict = {}  # the account the next /authorize logs in (sub, email, ...)
        self.codes: dict[str, dict] = {}
        self.tamper: str | None = None  # "aud", "exp", "nonce", "signature", "iss": the next ID token
        self.end_sessions: list[dict] = []
        self.token_requests: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        req = Request(environ)
        routes = {"/.well-known/openid-configuration": self._discovery, "/jwks": self._jwks,
                  "/authorize": self._authorize, "/token": self._token, "/end_session": self._end_session}
        handler = routes.get(req.path)
        resp = handler(req) if handler else Response("not found", status=404)
        return resp(environ, start_response)

    @staticmethod
    def _json(data, status=200):
        return Response(json.dumps(data), status=status, content_type="application/json")

    def _discovery(self, req):
        b = self.base
        return self._json({
            "issuer": b, "authorization_endpoint": f"{b}/authorize", "token_endpoint": f"{b}/token",
            "jwks_uri": f"{b}/jwks", "end_session_endpoint": f"{b}/end_session",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
        })

    def _jwks(self, req):
        return self._json({"keys": [self.key.as_dict(private=False)]})

    def _authorize(self, req):
        a = req.args
        redirect_uri = a.get("redirect_uri", "")
        if a.get("client_id") != self.client_id or a.get("response_type") != "code" or "openid" not in a.get(
                "scope", "").split():
            return Response("invalid_request", status=400)
        if a.get("code_challenge_method") != "S256" or not a.get("code_challenge"):
            return Response(status=302, headers={"Location": _with_query(
                redirect_uri, error="invalid_request", error_description="PKCE required", state=a.get("state", ""))})
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"redirect_uri": redirect_uri, "challenge": a["code_challenge"],
                                "nonce": a.get("nonce"), "claims": dict(self.claims), "used": False}
        back = _with_query(redirect_uri, code=code, state=a.get("state", ""))
        return Response(status=302, headers={"Location": back})

    def _client_ok(self, req) -> bool:
        auth = req.authorization
        if auth is not None and auth.type == "basic":
            return auth.username == self.client_id and auth.password == self.client_secret
        return req.form.get("client_id") == self.client_id and req.form.get("client_secret") == self.client_secret

    def _token(self, req):
        f = req.form
        self.token_requests.append(dict(f))
        if not self._client_ok(req):
            return self._json({"error": "invalid_client"}, 401)
        with self.lock:
            c = self.codes.get(f.get("code", ""))
            if c is None or c["used"] or f.get("grant_type") != "authorization_code":
                return self._json({"error": "invalid_grant"}, 400)
            c["used"] = True
        if c["redirect_uri"] != f.get("redirect_uri"):
            return self._json({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        verifier = f.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
            return self._json({"error": "invalid_grant", "error_description": "PKCE verifier"}, 400)
        now = int(time.time())
        claims = {"iss": self.base, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": c["nonce"], "sid": secrets.token_hex(8), **c["claims"]}
        key, tamper, self.tamper = self.key, self.tamper, None
        if tamper == "aud":
            claims["aud"], claims["azp"] = "another-client", self.client_id  # azp alone must not pass
        elif tamper == "exp":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif tamper == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif tamper == "iss":
            claims["iss"] = "https://evil.example"
        elif tamper == "signature":
            key = self.other_key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                           "id_token": id_token, "scope": "openid profile email"})

    def _end_session(self, req):
        self.end_sessions.append(dict(req.args))
        target = req.args.get("post_logout_redirect_uri")
        if target:
            return Response(status=302, headers={"Location": _with_query(target, state=req.args.get("state", ""))})
        return Response("logged out")


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
