"""Real servers on 127.0.0.1 for the notifications tests (issue 25): an SMTP server (aiosmtpd) in each
security mode, and an HTTP server that answers as WeCom's and DingTalk's APIs document, checking each
request's shape, token and signature, and answering the errors it is told to (rate limit, invalid token)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER, PASSWORD = "labsafe@example.edu.cn", "s3cret-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made now by the openssl CLI (its own CA: the client is given it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True)
    return cert, key


class _Handler:
    def __init__(self):
        self.messages: list[dict] = []
        self.auth_attempts: list[tuple[str, bool]] = []  # (mechanism, over TLS)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append({"from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.original_content or envelope.content),
                              "authenticated": bool(session.authenticated),
                              "tls": session.ssl is not None})
        return "250 OK"


class _ImplicitTLS(SMTP):
    """aiosmtpd counts only STARTTLS as TLS (its auth_require_tls hides AUTH on an implicit-TLS port, 465):
    a connection that arrived over TLS is marked as such, as a real port-465 server treats it."""

    def connection_made(self, transport):
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._tls_protocol = transport
            self.session.ssl = {"ssl_object": transport.get_extra_info("ssl_object")}


class _ImplicitTLSController(Controller):
    def factory(self):
        return _ImplicitTLS(self.handler, **self.SMTP_kwargs)


class SMTPServer:
    """aiosmtpd on 127.0.0.1 in one mode: "ssl" (implicit TLS), "starttls" (offered and required before
    any mail), "none" (no TLS at all). AUTH is accepted only over TLS (aiosmtpd's auth_require_tls): a
    client that tries it in clear is refused with 538."""

    def __init__(self, mode: str, cert: tuple[Path, Path] | None = None, *, auth: bool = True):
        self.handler = _Handler()
        self.port = free_port()
        kwargs = {"auth_require_tls": True}
        if auth:
            kwargs["authenticator"] = self._authenticate
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
        if mode == "ssl":
            kwargs["ssl_context"] = context
        elif mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        controller = _ImplicitTLSController if mode == "ssl" else Controller
        self.controller = controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
            and auth_data.password.decode() == PASSWORD
        self.handler.auth_attempts.append((mechanism, session.ssl is not None))
        return AuthResult(success=ok)

    @property
    def messages(self):
        return self.handler.messages

    def stop(self):
        self.controller.stop()


# ---- WeCom and DingTalk ------------------------------------------------------------------------------

CORP_ID, CORP_SECRET, AGENT_ID = "ww-corp", "corp-secret", "1000002"
APP_KEY, APP_SECRET, DT_AGENT_ID = "ding-app-key", "ding-app-secret", "3000001"
ROBOT_KEY = "wecom-robot-key"
DT_ROBOT_TOKEN, DT_ROBOT_SECRET = "ding-robot-token", "SECd1ngr0b0tsecret"


class MessengerAPI:
    """WeCom's and DingTalk's APIs as far as LabSafe uses them. ``fail`` maps a path to the errcodes its
    next calls answer (then it answers normally); ``expire()`` makes the issued tokens invalid (42001 /
    40014 from then on, as when a token expired). Records every accepted message and every call."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []  # (path, body) of accepted messages
        self.calls: list[str] = []
        self.refused: list[tuple[str, int, str]] = []  # (path, errcode, why)
        self.fail: dict[str, list[int]] = {}
        self.robot_keys = {ROBOT_KEY}
        self.dingtalk_robots = {DT_ROBOT_TOKEN: DT_ROBOT_SECRET}
        self.tokens: dict[str, str] = {}  # valid token -> "wecom" / "dingtalk"
        self._n = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                api._handle(self, None)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                api._handle(self, self.rfile.read(length))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def config(self, **more) -> dict:
        return {"WECOM_API_BASE": self.base, "WECOM_CORP_ID": CORP_ID, "WECOM_CORP_SECRET": CORP_SECRET,
                "WECOM_AGENT_ID": AGENT_ID, "DINGTALK_API_BASE": self.base, "DINGTALK_APP_KEY": APP_KEY,
                "DINGTALK_APP_SECRET": APP_SECRET, "DINGTALK_AGENT_ID": DT_AGENT_ID, **more}

    def expire(self):
        self.tokens.clear()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def of(self, path: str) -> list[dict]:
        return [body for p, body in self.sent if p == path]

    # -- the APIs --------------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, raw: bytes | None):
        url = urllib.parse.urlsplit(h.path)
        path, q = url.path, dict(urllib.parse.parse_qsl(url.query))
        self.calls.append(path)
        body = None
        if raw is not None:
            assert h.headers.get("Content-Type", "").startswith("application/json")
            body = json.loads(raw.decode("utf-8"))
        answer = self._answer(path, q, body)
        data = json.dumps(answer).encode()
        h.send_response(200)  # both APIs answer errors as 200 with an errcode
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _error(self, path, code, why):
        self.refused.append((path, code, why))
        return {"errcode": code, "errmsg": why}

    def _token(self, kind):
        self._n += 1
        token = f"{kind}-token-{self._n}"
        self.tokens[token] = kind
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _answer(self, path, q, body):
        scripted = self.fail.get(path)
        if scripted:
            code = scripted.pop(0)
            return self._error(path, code, "scripted: api freq out of limit" if code in (45009, 130101)
                               else "scripted error")
        if path == "/cgi-bin/gettoken":
            if (q.get("corpid"), q.get("corpsecret")) != (CORP_ID, CORP_SECRET):
                return self._error(path, 40001, "invalid credential")
            return self._token("wecom")
        if path == "/gettoken":
            if (q.get("appkey"), q.get("appsecret")) != (APP_KEY, APP_SECRET):
                return self._error(path, 40089, "invalid appkey or appsecret")
            return self._token("dingtalk")
        if path == "/cgi-bin/message/send":
            if self.tokens.get(q.get("access_token")) != "wecom":
                return self._error(path, 42001 if q.get("access_token") else 41001, "access_token expired")
            ok = (isinstance(body.get("touser"), str) and body.get("msgtype") == "text"
                  and body.get("agentid") == int(AGENT_ID) and isinstance(body.get("text", {}).get("content"), str))
            if not ok:
                return self._error(path, 40008, "invalid message type")
            self.sent.append((path, body))
            return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"m{len(self.sent)}"}
        if path == "/cgi-bin/webhook/send":
            if q.get("key") not in self.robot_keys:
                return self._error(path, 93000, "invalid webhook url")
            if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
                return self._error(path, 40008, "invalid message type")
            self.sent.append((path, body))
            return {"errcode": 0, "errmsg": "ok"}
        if path == "/topapi/message/corpconversation/asyncsend_v2":
            if self.tokens.get(q.get("access_token")) != "dingtalk":
                return self._error(path, 40014, "invalid access_token")
            msg = body.get("msg") or {}
            ok = (body.get("agent_id") == int(DT_AGENT_ID) and isinstance(body.get("userid_list"), str)
                  and msg.get("msgtype") == "text" and isinstance(msg.get("text", {}).get("content"), str))
            if not ok:
                return self._error(path, 400002, "invalid parameter")
            self.sent.append((path, body))
            return {"errcode": 0, "errmsg": "ok", "task_id": len(self.sent), "request_id": "r"}
        if path == "/robot/send":
            secret = self.dingtalk_robots.get(q.get("access_token"))
            if secret is None:
                return self._error(path, 300001, "token is not exist")
            stamp = q.get("timestamp", "")
            # The documented check: HMAC-SHA256 over "timestamp\nsecret", base64; within an hour.
            expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600_000:
                return self._error(path, 310000, "invalid timestamp")
            if q.get("sign") != expected:  # parse_qsl has url-decoded it
                return self._error(path, 310000, "sign not match")
            if body.get("msgtype") != "text":
                return self._error(path, 40035, "invalid msgtype")
            self.sent.append((path, body))
            return {"errcode": 0, "errmsg": "ok"}
        return self._error(path, 404, "no such API")
