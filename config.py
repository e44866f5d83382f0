"""LabSafe configuration.

Every setting can be overridden from the environment (``LABSAFE_<NAME>`` or the
well-known names ``DATABASE_URL`` and ``SECRET_KEY``). ``create_app`` picks the
class named by ``LABSAFE_CONFIG`` (development, testing, production).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE = BASE_DIR / "instance"


def _env(name: str, default=None):
    return os.environ.get(f"LABSAFE_{name}", default)


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


class Config:
    ENV_NAME = "base"
    INSTANCE_PATH = Path(_env("INSTANCE_PATH", DEFAULT_INSTANCE))
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None  # filled in by create_app
    # No ping before each checkout: on PostgreSQL it is one more round trip on every request. After
    # a database restart the first request of each worker fails once (SQLAlchemy then discards the
    # whole pool; the PWA retries a 5xx); connections are recycled before idle firewalls cut them.
    # LABSAFE_DB_PRE_PING=1 turns the ping back on where connections die more often.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {
        "pool_pre_ping": _env("DB_PRE_PING", "0") in ("1", "true", "yes"),
        "pool_recycle": _env_int("DB_POOL_RECYCLE_SECONDS", 1800),
    }

    # The school as its issued documents name it (app/documents): the heading of every PDF, and the
    # code that starts each document's number (e.g. HZNU-2026-ZG-00001).
    SCHOOL_NAME = _env("SCHOOL_NAME", "湖州师范学院")
    SCHOOL_NAME_EN = _env("SCHOOL_NAME_EN", "Huzhou University")
    SCHOOL_CODE = _env("SCHOOL_CODE", "HZNU")
    # `flask issue-documents` issues the notices and written reports due for what happened this many days back.
    DOCUMENTS_AUTO_ISSUE_DAYS = _env_int("DOCUMENTS_AUTO_ISSUE_DAYS", 7)

    # The school's clock: daily checks and the nightly job count days here (art. 29).
    SCHOOL_TIMEZONE = _env("SCHOOL_TIMEZONE", "Asia/Shanghai")

    # Uploads: phones send photos of a few MB; anything far larger is refused with 413.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 25 * 1024 * 1024)
    # Lab access (准入, art. 13; app/roster): how long an access is valid by default, from the exam
    # (a row may set its own expiry), and how many days before it expires the nightly job reminds.
    ACCESS_VALID_MONTHS = _env_int("ACCESS_VALID_MONTHS", 12)
    ACCESS_REMIND_DAYS = _env_int("ACCESS_REMIND_DAYS", 14)
    # What a phone photo is (app/photos/pipeline.py; costs in docs/PERFORMANCE.md): at most 50 MP
    # (the largest binned sensors; 108/200 MP full-resolution modes are opt-in and refused, the
    # PWA sends 2048 px anyway), HEIC/PNG/WebP fewer (decoded in full), and at least this many
    # bytes per megapixel (no camera file has fewer; a decompression bomb has far fewer).
    PHOTO_MAX_PIXELS = _env_int("PHOTO_MAX_PIXELS", 50_000_000)
    PHOTO_MIN_BYTES_PER_MEGAPIXEL = _env_int("PHOTO_MIN_BYTES_PER_MEGAPIXEL", 4_000)
    # Photos decoded at once per worker process; the others wait up to PHOTO_DECODE_WAIT_SECONDS
    # for a turn, then get 503 + Retry-After (the PWA's outbox sends them again).
    PHOTO_DECODE_SLOTS = _env_int("PHOTO_DECODE_SLOTS", 1)
    PHOTO_DECODE_WAIT_SECONDS = float(_env("PHOTO_DECODE_WAIT_SECONDS") or 10)
    PHOTO_DISPLAY_SIZE = 1600
    PHOTO_THUMB_SIZE = 320
    PHOTO_STORE = _env("PHOTO_STORE")  # defaults to <instance>/photos; s3://bucket/prefix: object storage
    # An S3-compatible object store (PHOTO_STORE=s3://bucket/prefix; README "Photos in object
    # storage"): the service's URL (empty: AWS), region, credentials (empty: boto3's own chain, e.g.
    # an instance role), and path-style addressing (http://host/bucket/key), which MinIO needs.
    PHOTO_S3_ENDPOINT_URL = _env("PHOTO_S3_ENDPOINT_URL")
    PHOTO_S3_REGION = _env("PHOTO_S3_REGION")
    PHOTO_S3_ACCESS_KEY_ID = _env("PHOTO_S3_ACCESS_KEY_ID")
    PHOTO_S3_SECRET_ACCESS_KEY = _env("PHOTO_S3_SECRET_ACCESS_KEY")
    PHOTO_S3_PATH_STYLE = _env("PHOTO_S3_PATH_STYLE", "0") in ("1", "true", "yes")
    # Resumable uploads (PATCH /api/photos/<uuid>/upload) still arriving, one file per user and
    # UUID; defaults to <PHOTO_STORE>-uploads. `flask prune-photos` removes abandoned ones.
    PHOTO_UPLOAD_STAGING = _env("PHOTO_UPLOAD_STAGING")
    PHOTO_STAGED_UPLOADS_PER_USER = _env_int("PHOTO_STAGED_UPLOADS_PER_USER", 20)
    # The phone sends each photo downscaled (2048 px); on, it also keeps the camera's own file and
    # sends it after the report and its photos, on Wi-Fi or when charging (issue 21): evidence.
    PHOTO_CAMERA_ORIGINALS = _env("PHOTO_CAMERA_ORIGINALS", "0") in ("1", "true", "yes")
    # Hazard reports from the door QR (issue 24, art. 30). Anyone signed in may report; with
    # LABSAFE_HAZARD_ANONYMOUS_REPORTS=1 so may someone at the door without an account, bounded per
    # address (HAZARD_ANONYMOUS_RATE_LIMIT, in the API rate limit's storage) and in size.
    HAZARD_ANONYMOUS_REPORTS = _env("HAZARD_ANONYMOUS_REPORTS", "0") in ("1", "true", "yes")
    HAZARD_ANONYMOUS_RATE_LIMIT = _env("HAZARD_ANONYMOUS_RATE_LIMIT", "5 per hour")
    HAZARD_TEXT_MAX = _env_int("HAZARD_TEXT_MAX", 2000)  # characters
    HAZARD_MAX_PHOTOS = _env_int("HAZARD_MAX_PHOTOS", 6)
    HAZARD_ANONYMOUS_MAX_PHOTOS = _env_int("HAZARD_ANONYMOUS_MAX_PHOTOS", 3)
    HAZARD_ANONYMOUS_PHOTO_BYTES = _env_int("HAZARD_ANONYMOUS_PHOTO_BYTES", 3 * 1024 * 1024)  # each

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "labsafe_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 12))
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 120)
    # The absolute timeout counts from login (app/auth/sessions.py), so the cookie need not be
    # re-signed on every response just to push its expiry; "last seen" changes it once a minute.
    SESSION_REFRESH_EACH_REQUEST = False

    # CSRF on every state-changing request, forms and JSON alike (X-CSRFToken header).
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    # Languages: Chinese first, English available.
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ["zh_CN", "en"]

    # Checklist files (TOML, one per list; `flask checklists load`).
    CHECKLIST_DIR = Path(_env("CHECKLIST_DIR", BASE_DIR / "checklists"))

    # Rectification deadlines in days, per severity and level; settings, not constants: the school sets them.
    TICKET_DEADLINE_DAYS = {
        ("general", "lab"): 7,
        ("general", "college"): 5,
        ("general", "school"): 3,
        ("major", "lab"): 2,
        ("major", "college"): 2,
        ("major", "school"): 1,
    }
    # Inspection grades (issue 22; app/inspections/scoring.py applies them, checklists/README.md
    # "Scores and grades" explains them). The score is 0-100: the weights of the passed items over
    # the weights of the items answered pass or fail (N/A leaves the denominator). Grades, best
    # first, each with the lowest score that reaches it: A pass, B pass after rectification, C
    # re-check on site, below the last band D fail. Two rules override the score: a failed red-line
    # item (`must_pass`) grades D whatever the score (一票否决), and a failed major item (重大隐患,
    # art. 29) keeps an inspection out of A (at best B: it passes only once rectified).
    # LABSAFE_GRADE_BANDS="90,75,60" sets the A, B and C thresholds. A grade is given at submit and
    # kept; `flask inspections rescore --all` re-grades stored inspections after a change on purpose.
    GRADE_BANDS = tuple(
        zip("ABC", (float(v) for v in (_env("GRADE_BANDS") or "90,75,60").split(",")), strict=True)
    )

    # Consecutive missed daily checks before the college hears of it (art. 29).
    MISSED_CHECKS_NOTIFY_COLLEGE_AFTER = _env_int("MISSED_CHECKS_NOTIFY_COLLEGE_AFTER", 3)
    # Days after a school day ends during which a daily check of that day, synced late from an
    # offline phone, still clears the nightly job's flag (art. 29; README "Late daily checks").
    # After that a day's figures are final, and a month's summary once it has passed after the month's end.
    LATE_SYNC_DAYS = _env_int("LATE_SYNC_DAYS", 7)

    # Mail: when no SMTP host is configured, mail stays in the outbox and shows in-app.
    SMTP_HOST = _env("SMTP_HOST")
    SMTP_PORT = _env("SMTP_PORT")
    SMTP_USER = _env("SMTP_USER")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    MAIL_FROM = _env("MAIL_FROM", "labsafe@localhost")
    # Messengers and mail (app.notifications, issue 25; README "Mail, WeCom and DingTalk").
    # ssl (implicit TLS, 465), starttls or none. Unset: ssl on port 465, starttls when a user is set (AUTH
    # only ever goes over TLS), else none. SMTP_PORT unset: 465 / 587 / 25 by the security.
    SMTP_SECURITY = _env("SMTP_SECURITY")
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 10)
    # A CA bundle to verify the mail server's certificate with (a campus CA); default: the system's.
    SMTP_CA_FILE = _env("SMTP_CA_FILE")
    # Failed sends are tried again after OUTBOX_RETRY_SECONDS, doubling, at most 6 h apart, OUTBOX_MAX_ATTEMPTS times.
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)
    OUTBOX_RETRY_SECONDS = _env_int("OUTBOX_RETRY_SECONDS", 60)
    # The channels a user who has not chosen gets notices through (in-app always): email, wecom, dingtalk.
    NOTIFY_CHANNELS = _env("NOTIFY_CHANNELS", "email,wecom,dingtalk")
    MESSENGER_TIMEOUT = _env_int("MESSENGER_TIMEOUT", 10)
    # 1: notices about a lab are also posted to its college's group robots (edited on /admin/messengers).
    COLLEGE_ROBOTS = _env("COLLEGE_ROBOTS", "0") in ("1", "true", "yes")
    # WeCom (企业微信): an app's messages to users (corp id, the app's secret and agent id) and a site group robot.
    WECOM_API_BASE = _env("WECOM_API_BASE", "https://qyapi.weixin.qq.com")
    WECOM_CORP_ID = _env("WECOM_CORP_ID")
    WECOM_CORP_SECRET = _env("WECOM_CORP_SECRET")
    WECOM_AGENT_ID = _env("WECOM_AGENT_ID")
    WECOM_ROBOT_KEY = _env("WECOM_ROBOT_KEY")
    # DingTalk: an internal app's work notices (app key, secret, agent id) and a site group robot (access
    # token of its webhook, and its signing secret: 加签).
    DINGTALK_API_BASE = _env("DINGTALK_API_BASE", "https://oapi.dingtalk.com")
    DINGTALK_APP_KEY = _env("DINGTALK_APP_KEY")
    DINGTALK_APP_SECRET = _env("DINGTALK_APP_SECRET")
    DINGTALK_AGENT_ID = _env("DINGTALK_AGENT_ID")
    DINGTALK_ROBOT_TOKEN = _env("DINGTALK_ROBOT_TOKEN")
    DINGTALK_ROBOT_SECRET = _env("DINGTALK_ROBOT_SECRET")

    # Login throttling (app/auth/throttle.py) and rate-limit storage.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    # The API limit's counters in memory are per process: production refuses them unless this says
    # the app runs as one process (gunicorn --workers 1), where they are exact.
    SINGLE_PROCESS = _env("SINGLE_PROCESS", "0") in ("1", "true", "yes")
    # Failures per account from devices it does not know (and per known device) before a lock.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
    # Per address the limit is higher: a campus NAT puts many people behind one address. Past it the
    # address is slowed down (one attempt per LOCK_MINUTES / this), not locked; known devices go on.
    LOGIN_MAX_FAILURES_PER_ADDRESS = _env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    # A successful login makes the device (a signed cookie) known to that account for this long.
    LOGIN_KNOWN_DEVICE_DAYS = _env_int("LOGIN_KNOWN_DEVICE_DAYS", 180)
    KNOWN_DEVICE_COOKIE_NAME = "labsafe_device"
    # General limit on /api per user (or address), e.g. "600 per minute"; empty = off.
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "")
    # Behind nginx or another reverse proxy: how many proxies set X-Forwarded-For/-Proto. Without it
    # every client looks like the proxy, and the per-address login throttle would lock everyone.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    # The school's semesters (art. 27: school-wide checks once or twice a semester), read by
    # app/semesters.py for the rounds' semester rules and the summary's per-semester counts:
    # LABSAFE_SEMESTERS="2026-09-07:2027-01-17,2027-03-01:2027-07-04" (first:last day, school-local).
    # Where it names no semester, semesters begin on the 1st of these months and run to the next.
    SEMESTERS = _env("SEMESTERS", "")
    REPORT_SEMESTER_START_MONTHS = tuple(
        int(m) for m in (_env("REPORT_SEMESTER_START_MONTHS") or "3,9").split(",") if m.strip()
    )

    # Base URL printed on nameplates' QR codes. Required in production; elsewhere it falls back to
    # the request's host (which the client's Host header decides).
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
    # Host names the app answers for (Flask's TRUSTED_HOSTS, comma-separated); empty = any.
    TRUSTED_HOSTS = [h.strip() for h in (_env("TRUSTED_HOSTS") or "").split(",") if h.strip()] or None
    # How long a set-password link of a user imported without a password works.
    SET_PASSWORD_LINK_DAYS = _env_int("SET_PASSWORD_LINK_DAYS", 14)

    # Single sign-on with the campus account (issue 25; app/auth/sso.py, README "Campus login").
    # CAS is on when CAS_SERVER_URL is set (e.g. https://cas.example.edu.cn/cas/), OpenID Connect
    # when OIDC_DISCOVERY_URL is (the provider's /.well-known/openid-configuration).
    CAS_SERVER_URL = _env("CAS_SERVER_URL", "")
    CAS_VERSION = _env("CAS_VERSION", "3")  # 2 (/serviceValidate) or 3 (/p3/serviceValidate)
    # The CAS attributes holding the staff number (empty: the CAS user name is the staff number),
    # the e-mail and the name.
    CAS_ATTRIBUTE_STAFF_NO = _env("CAS_ATTRIBUTE_STAFF_NO", "")
    CAS_ATTRIBUTE_EMAIL = _env("CAS_ATTRIBUTE_EMAIL", "mail")
    CAS_ATTRIBUTE_NAME = _env("CAS_ATTRIBUTE_NAME", "cn")
    # Address ranges (comma-separated, e.g. 10.0.8.15/32) from which CAS may POST a back-channel
    # logout; empty: any address (the session index is the service ticket, a secret either way).
    CAS_LOGOUT_FROM = _env("CAS_LOGOUT_FROM", "")
    OIDC_DISCOVERY_URL = _env("OIDC_DISCOVERY_URL", "")
    OIDC_CLIENT_ID = _env("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = _env("OIDC_CLIENT_SECRET", "")
    OIDC_SCOPE = _env("OIDC_SCOPE", "openid profile email")
    OIDC_CLAIM_STAFF_NO = _env("OIDC_CLAIM_STAFF_NO", "preferred_username")
    OIDC_CLAIM_EMAIL = _env("OIDC_CLAIM_EMAIL", "email")
    OIDC_CLAIM_NAME = _env("OIDC_CLAIM_NAME", "name")
    # Seconds LabSafe waits for the CAS server or the OIDC provider on each call it makes to them.
    SSO_TIMEOUT_SECONDS = float(_env("SSO_TIMEOUT_SECONDS") or 10)
    # How a campus account finds its LabSafe user: "staff_no" (工号, users.staff_no) or "email".
    SSO_MATCH_BY = _env("SSO_MATCH_BY", "staff_no")
    # 1: an unknown campus account becomes a LabSafe user with no roles (the office then grants
    # them); 0 (default): it is refused with a page telling the person whom to ask.
    SSO_PROVISION = _env("SSO_PROVISION", "0") in ("1", "true", "yes")
    # Who may log in with a LabSafe password: "all" (default) or "admin" (school admins only; every
    # one else uses the campus login). "admin" is ignored while no campus login is configured.
    LOCAL_LOGIN = _env("LOCAL_LOGIN", "all")
    # Accidents (app/accidents, art. 31-33): days the unit has to file its written report; the departments
    # (by code) told of every accident at once besides the lab, its college and the school office; the
    # yuan floors of a major (I), serious (II) and larger (III) loss (art. 33 names them in words only).
    ACCIDENT_UNIT_REPORT_DAYS = _env_int("ACCIDENT_UNIT_REPORT_DAYS", 7)
    ACCIDENT_NOTIFY_DEPARTMENTS = tuple(
        c.strip() for c in (_env("ACCIDENT_NOTIFY_DEPARTMENTS") or "lab_management,security").split(",") if c.strip()
    )
    ACCIDENT_LOSS_YUAN = tuple(int(v) for v in (_env("ACCIDENT_LOSS_YUAN") or "1000000,300000,50000").split(","))

    # Send HSTS and other production-only headers.
    SECURE_HEADERS_HSTS = False

    # Monitoring (issue 26, app/monitoring; deploy/README.md). Log lines as JSON with a request id
    # ("json") or as plain text ("text"). /metrics answers the addresses in these networks
    # (comma-separated CIDR; the client's address after LABSAFE_TRUSTED_PROXIES) or a request with
    # "Authorization: Bearer <METRICS_TOKEN>"; anyone else gets 403.
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    METRICS_NETWORKS = _env("METRICS_NETWORKS", "127.0.0.1/32,::1/128")
    METRICS_TOKEN = _env("METRICS_TOKEN") or None


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    # A smaller limit keeps the oversized-upload test cheap.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    RATELIMIT_ENABLED = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # __Host- cookies must be Secure, path=/ and have no Domain.
    SESSION_COOKIE_NAME = "__Host-labsafe_session"
    REMEMBER_COOKIE_NAME = "__Host-labsafe_remember"
    KNOWN_DEVICE_COOKIE_NAME = "__Host-labsafe_device"
    SECURE_HEADERS_HSTS = True
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "600 per minute")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_dev_secret(instance_path: Path) -> str:
    """In development the secret is generated once and kept under instance/."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
