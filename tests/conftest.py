"""Test fixtures: an app and a database per test, the schema built once per session.

SQLite always: the schema (tables, indexes and the art. 30 delete-guard triggers create_all installs)
is built once per session into a template file, and each test gets its own copy of that file (about
a millisecond, where create_all took a few hundred). Each test keeps a real file of its own, so
commits, separate connections, threads and several apps behave as in production.

PostgreSQL when TEST_DATABASE_URL is set: one database per session (a unique name, so parallel runs
don't collide; synchronous_commit off), tables created once and emptied after every test. Emptying
deletes the rows with triggers off (session_replication_role = replica: neither the delete guards
nor the foreign keys fire) and resets the used sequences, which costs little when a test wrote a few
rows; after a test that wrote many rows, or for a role that may not turn triggers off, a TRUNCATE of
every table (RESTART IDENTITY) follows, so no test inherits a big table's dead rows.

Every test gets its own app (create_app); what apps compile from the same source and keep no state
in is compiled once per process and reused: the URL rules' builder functions (_reuse_url_builders),
the templates' bytecode (_share_template_bytecode) and the SQL of each statement
(_share_compiled_statements).

Temporary files (the per-test SQLite copies, photo stores...) live in memory (/dev/shm) where the
machine has room there: each SQLite commit's fsync then costs nothing (_temporary_files_in_memory).

`make test` runs the suite on several processes (pytest-xdist): each has its own template file,
PostgreSQL database and servers on ports of their own (port 0: the system picks a free one).
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.util import LRUCache

from app import create_app
from app.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Rows deleted after one test beyond which the PostgreSQL tables are truncated too (see the docstring).
MANY_ROWS = 2000


def _reuse_url_builders():
    """Compile each URL rule's builder functions once per session instead of once per test's app.

    Werkzeug compiles, for every rule of every app, two small Python functions from a generated
    syntax tree: about three quarters of create_app's time, paid again by every test. Such a
    function depends only on the rule's parsed parts and its defaults' names (it reaches the
    converters through the rule it is bound to), so the one compiled for a rule serves that rule in
    every app. Each test still gets its own app, URL map, rules and converters; a rule with a default
    inside its path (the function would hold that value) is compiled as usual.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders = {}

    def reused_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(is_dynamic and part in defaults for is_dynamic, part in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = reused_builder


_reuse_url_builders()


class _TemplateBytecode(BytecodeCache):
    """Jinja's compiled templates kept in this process's memory, shared by every app's environment.

    Compiling a template is the slow part of its first render (for each app, so for each test). Every
    test app is made by create_app with the same template options, and the bucket's checksum is the
    template's source, so a changed template is compiled again.
    """

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        checksum, code = self._code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = (bucket.checksum, bucket.code)


def _share_template_bytecode():
    bytecode = _TemplateBytecode()
    create_jinja_environment = Flask.create_jinja_environment

    def with_shared_bytecode(self):
        env = create_jinja_environment(self)
        env.bytecode_cache = bytecode
        return env

    Flask.create_jinja_environment = with_shared_bytecode


_share_template_bytecode()


def _share_compiled_statements():
    """One dialect and one compiled-statement cache for all engines on the same kind of database.

    SQLAlchemy caches a statement's compiled SQL per engine, keyed by the engine's dialect object, so
    each test's new engine compiled every statement again (a tenth of the suite's time). Engines
    made with the same driver, URL query and options get dialects in the same state (same server
    version, same settings), so every later engine uses the first one's dialect, once that one has
    been initialised by its first connection, and its cache. Pools, connections and engine events
    stay each engine's own.
    """

    make_engine = db._make_engine
    dialects = {}  # kind of engine -> (dialect, compiled cache)

    def make_engine_sharing_sql(bind_key, options, app):
        engine = make_engine(bind_key, options, app)
        kind = (type(engine.dialect), engine.url.drivername, tuple(sorted(engine.url.query.items())),
                repr(sorted((k, v) for k, v in options.items() if k != "url")))
        if engine._compiled_cache is None:  # statement caching turned off: nothing to share
            return engine
        if kind in dialects:
            engine.dialect, engine._compiled_cache = dialects[kind]
        else:
            @event.listens_for(engine.pool, "connect", once=True)
            def first_connection(dbapi_connection, record):
                # After create_engine's own listener has initialised the dialect on this connection.
                dialects.setdefault(kind, (engine.dialect, LRUCache(5000)))
                engine._compiled_cache = dialects[kind][1]
        return engine

    db._make_engine = make_engine_sharing_sql


_share_compiled_statements()


def _temporary_files_in_memory():
    """Temporary files (pytest's tmp_path included) on tmpfs when /dev/shm has room: the SQLite
    files' fsyncs cost nothing there. Elsewhere the system's temporary directory as before."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
    except OSError:
        return
    if os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize >= 2 * 1024**3 and "TMPDIR" not in os.environ:
        tempfile.tempdir = shm


_temporary_files_in_memory()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file holding the whole schema, built once per session; tests use copies of it."""
    where = tmp_path_factory.mktemp("sqlite-template")
    path = where / "template.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", INSTANCE_PATH=str(where / "instance"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()  # the last connection closed checkpoints the WAL into the file
    assert not (where / "template.sqlite3-wal").exists(), "the template must be one self-contained file"
    return path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """None for SQLite (a file per test), else a PostgreSQL database for this session."""
    if not PG_URL:
        yield None
        return
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"labsafe_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit need not wait for its WAL to reach the disk: still atomic and seen by every
        # connection at once, only not kept through a crash of the server, which no test needs.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=test_url, INSTANCE_PATH=str(tmp_path_factory.mktemp("pg")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class CsrfClient(FlaskClient):
    """A test client that behaves like our JavaScript: it sends X-CSRFToken on unsafe requests.

    CSRF stays on in tests; pass headers={"X-CSRFToken": ""} to send none.
    """

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if method in UNSAFE and "X-CSRFToken" not in headers:
            with self.application.app_context():
                token = super().open("/api/csrf", method="GET").get_json()["csrf_token"]
            headers["X-CSRFToken"] = token
        elif headers.get("X-CSRFToken") == "":
            headers.pop("X-CSRFToken")
        kwargs["headers"] = headers
        # A fresh app context per request, as in production: otherwise `g` (current_user, the
        # CSRF token) and the database session would leak from the test into the request.
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _app_on(database_url, tmp_path, template=None):
    """An app on PostgreSQL (database_url) or on a copy of the SQLite template, inside its context."""
    overrides = {"INSTANCE_PATH": str(tmp_path / "instance")}
    if database_url:
        overrides["SQLALCHEMY_DATABASE_URI"] = database_url
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = create_app("testing", **overrides)
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        if database_url:
            # A fresh context: a test's requests can leave `g` marking a read request, whose
            # connections run in autocommit (app/db/transactions.py), and SET LOCAL needs a transaction.
            with app.app_context():
                _empty_postgres()
        db.engine.dispose()


@functools.cache
def _may_turn_triggers_off(url: str) -> bool:
    with db.engine.connect() as conn:
        return bool(conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())


def _empty_postgres():
    """Every table empty and every sequence back at its start, as after TRUNCATE ... RESTART IDENTITY."""
    tables = db.metadata.sorted_tables
    deleted = MANY_ROWS + 1
    if _may_turn_triggers_off(str(db.engine.url)):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            deleted = sum(conn.execute(text(f'DELETE FROM "{t.name}"')).rowcount for t in tables)
            conn.execute(text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
                "FROM pg_sequences WHERE last_value IS NOT NULL"
            ))
    if deleted > MANY_ROWS:
        names = ", ".join(f'"{t.name}"' for t in tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(database_url, tmp_path, request):
    template = None if database_url else request.getfixturevalue("sqlite_template")
    yield from _app_on(database_url, tmp_path, template)


@pytest.fixture
def sqlite_app(tmp_path, sqlite_template):
    """Always SQLite, in the PostgreSQL pass too: for what only SQLite has (its write lock and its
    connection settings), tested instead of skipped."""
    yield from _app_on(None, tmp_path, sqlite_template)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def is_postgres(database_url):
    return database_url is not None
