"""Sending the WeCom (企业微信) and DingTalk outbox (issue 25), as those APIs document it.

- WeCom app message: ``GET /cgi-bin/gettoken?corpid=&corpsecret=``, then
  ``POST /cgi-bin/message/send?access_token=`` ``{"touser", "msgtype": "text", "agentid", "text": {"content"}}``.
- WeCom group robot: ``POST /cgi-bin/webhook/send?key=`` ``{"msgtype": "text", "text": {"content"}}``.
- DingTalk work notice: ``GET /gettoken?appkey=&appsecret=``, then
  ``POST /topapi/message/corpconversation/asyncsend_v2?access_token=``
  ``{"agent_id", "userid_list", "msg": {"msgtype": "text", "text": {"content"}}}``.
- DingTalk group robot: ``POST /robot/send?access_token=&timestamp=&sign=`` where sign is
  urlencode(base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))), timestamp in milliseconds.

Every answer carries ``errcode`` (0: done). An invalid or expired access token (40014, 42001, 40001) is
asked for again once and the message sent again; a rate limit (WeCom 45009, 45033; DingTalk 130101, 88,
90018...) stops that channel for this run. Every failure is recorded on its row with a retry time that
doubles, as for e-mail (``mail.record_failure``). The access token is kept in ``messenger_tokens``
until it expires, so a run asks for it once, not once per message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.timeutil import utcnow

from . import channels
from .mail import claim, record_failure, record_success
from .models import (
    DINGTALK_WORK,
    WECOM_APP,
    WECOM_ROBOT,
    CollegeRobot,
    MessengerToken,
    OutboxMessage,
)

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / invalid token / token expired
RATE_LIMITS = frozenset({45009, 45033, 45047, 130101, 88, 90018, 90002, 660026})


class MessengerError(Exception):
    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode

    @property
    def token_invalid(self) -> bool:
        return self.errcode in TOKEN_ERRORS

    @property
    def rate_limited(self) -> bool:
        return self.errcode in RATE_LIMITS


def _call(url: str, payload: dict | None, timeout: int) -> dict:
    """One HTTP request (POST JSON when there is a payload, else GET); the API's answer, or MessengerError."""
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (the API base is a setting)
            answer = json.loads(resp.read().decode() or "{}")
    except urllib.error.HTTPError as exc:
        raise MessengerError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise MessengerError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
    if not isinstance(answer, dict):
        raise MessengerError("the answer is not a JSON object")
    code = answer.get("errcode", 0)
    if code not in (0, None):
        raise MessengerError(f"errcode {code}: {answer.get('errmsg', '')}", code)
    return answer


def _url(config: dict, base_setting: str, path: str, **query) -> str:
    return config[base_setting].rstrip("/") + path + "?" + urllib.parse.urlencode(query)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature (加签): base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), url-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


# ---- access tokens ------------------------------------------------------------------------------

def _fetch_token(channel: str, config: dict) -> tuple[str, int]:
    timeout = int(config.get("MESSENGER_TIMEOUT") or 10)
    if channel == WECOM_APP:
        answer = _call(_url(config, "WECOM_API_BASE", "/cgi-bin/gettoken", corpid=config["WECOM_CORP_ID"],
                            corpsecret=config["WECOM_CORP_SECRET"]), None, timeout)
    else:
        answer = _call(_url(config, "DINGTALK_API_BASE", "/gettoken", appkey=config["DINGTALK_APP_KEY"],
                            appsecret=config["DINGTALK_APP_SECRET"]), None, timeout)
    token = answer.get("access_token")
    if not token:
        raise MessengerError("gettoken answered without an access_token")
    return token, int(answer.get("expires_in") or 7200)


def access_token(channel: str, config: dict, *, renew: bool = False) -> str:
    """The kept token while it has more than a minute left; else (or ``renew``) a new one, kept."""
    now = utcnow()
    if not renew:
        kept = db.session.get(MessengerToken, channel)
        if kept is not None and kept.expires_at > now + timedelta(minutes=1):
            return kept.access_token
    token, expires_in = _fetch_token(channel, config)
    db.session.execute(delete(MessengerToken).where(MessengerToken.channel == channel))
    db.session.add(MessengerToken(channel=channel, access_token=token,
                                  expires_at=now + timedelta(seconds=max(expires_in - 300, 60))))
    db.session.flush()
    return token


# ---- one message ----------------------------------------------------------------------------------

def _text(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def _send_app(channel: str, to_userid: str, content: str, config: dict, token: str) -> None:
    timeout = int(config.get("MESSENGER_TIMEOUT") or 10)
    if channel == WECOM_APP:
        answer = _call(_url(config, "WECOM_API_BASE", "/cgi-bin/message/send", access_token=token),
                       {"touser": to_userid, "agentid": int(config["WECOM_AGENT_ID"]), **_text(content), "safe": 0},
                       timeout)
        if answer.get("invaliduser"):  # errcode 0, yet nobody by that id
            raise MessengerError(f"WeCom knows no user {answer['invaliduser']!r}")
    else:
        _call(_url(config, "DINGTALK_API_BASE", "/topapi/message/corpconversation/asyncsend_v2", access_token=token),
              {"agent_id": int(config["DINGTALK_AGENT_ID"]), "userid_list": to_userid, "msg": _text(content)},
              timeout)


def send_app_message(channel: str, to_userid: str, content: str, config: dict) -> None:
    """An app message to one user, the token renewed once when the API calls it invalid or expired."""
    try:
        _send_app(channel, to_userid, content, config, access_token(channel, config))
    except MessengerError as exc:
        if not exc.token_invalid:
            raise
        _send_app(channel, to_userid, content, config, access_token(channel, config, renew=True))


def send_robot(channel: str, content: str, config: dict, *, key: str | None, token: str | None,
               secret: str | None) -> None:
    timeout = int(config.get("MESSENGER_TIMEOUT") or 10)
    if channel == WECOM_ROBOT:
        if not key:
            raise MessengerError("no WeCom robot webhook key")
        _call(_url(config, "WECOM_API_BASE", "/cgi-bin/webhook/send", key=key), _text(content), timeout)
        return
    if not token:
        raise MessengerError("no DingTalk robot access token")
    query = {"access_token": token}
    url = _url(config, "DINGTALK_API_BASE", "/robot/send", **query)
    if secret:
        stamp = int(time.time() * 1000)
        url += f"&timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"  # sign is url-encoded already
    _call(url, _text(content), timeout)


def _robot_settings(row: OutboxMessage, config: dict, robots: dict[int, CollegeRobot]) -> dict:
    if row.college_id is None:
        return {"key": config.get("WECOM_ROBOT_KEY"), "token": config.get("DINGTALK_ROBOT_TOKEN"),
                "secret": config.get("DINGTALK_ROBOT_SECRET")}
    robot = robots.get(row.college_id)
    if robot is None:
        return {"key": None, "token": None, "secret": None}
    return {"key": robot.wecom_key, "token": robot.dingtalk_token, "secret": robot.dingtalk_secret}


def deliver(row: OutboxMessage, config: dict, robots: dict[int, CollegeRobot]) -> None:
    if row.channel in (WECOM_APP, DINGTALK_WORK):
        missing = channels.missing_settings(config, row.channel)
        if missing:
            raise MessengerError("not configured: " + ", ".join("LABSAFE_" + m for m in missing))
        send_app_message(row.channel, row.to_userid, row.text, config)
    else:
        send_robot(row.channel, row.text, config, **_robot_settings(row, config, robots))


# ---- the outbox ------------------------------------------------------------------------------------

def send(config: dict, *, limit: int = 500) -> dict:
    """Send the messages due: each sent at least once (a crash before the commit sends it again) and
    recorded once (its row's sent_at). Claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, as e-mails are."""
    now = utcnow()
    result = {"sent": 0, "failed": 0, "deferred": 0}
    rows = claim(OutboxMessage, config, now, limit)
    if not rows:
        db.session.commit()
        return result
    college_ids = {r.college_id for r in rows if r.college_id is not None}
    robots = ({r.college_id: r for r in db.session.scalars(
        select(CollegeRobot).where(CollegeRobot.college_id.in_(college_ids)))} if college_ids else {})
    limited: set[str] = set()
    try:
        for row in rows:
            if row.channel in limited:  # rate-limited in this run: left for the next, no attempt counted
                result["deferred"] += 1
                continue
            try:
                deliver(row, config, robots)
            except MessengerError as exc:
                record_failure(row, str(exc), config, now)
                result["failed"] += 1
                if exc.rate_limited:
                    limited.add(row.channel)
                log.warning("outbox: %s message %s not sent: %s", row.channel, row.id, exc)
                continue
            record_success(row)
            result["sent"] += 1
    finally:
        db.session.commit()
    return result
