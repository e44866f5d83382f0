"""config.py: production refuses to start without a real secret; development keeps one under instance/."""
from __future__ import annotations

import stat

import pytest

from app import create_app


def _prod(tmp_path, **overrides):
    return create_app("production", INSTANCE_PATH=str(tmp_path / "instance"),
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}", **overrides)


def test_production_refuses_to_start_without_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _prod(tmp_path, SECRET_KEY=None)
    assert not (tmp_path / "instance" / "secret_key").exists()  # never falls back to a generated one


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="too short"):
        _prod(tmp_path, SECRET_KEY="short")


def test_production_with_a_real_secret_uses_secure_cookies(tmp_path):
    app = _prod(tmp_path, SECRET_KEY="x" * 48)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_secret_is_generated_once_under_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    kwargs = dict(INSTANCE_PATH=str(tmp_path / "instance"), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'd.sqlite3'}",
                  SECRET_KEY=None)
    first = create_app("development", **kwargs).config["SECRET_KEY"]
    path = tmp_path / "instance" / "secret_key"
    assert path.exists() and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app("development", **kwargs).config["SECRET_KEY"] == first


def test_database_url_selects_psycopg3(tmp_path):
    app = create_app("testing", INSTANCE_PATH=str(tmp_path / "i"),
                     SQLALCHEMY_DATABASE_URI="postgresql://u@127.0.0.1:5432/labsafe")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_default_database_is_sqlite_under_instance(tmp_path):
    app = create_app("testing", INSTANCE_PATH=str(tmp_path / "i"), SQLALCHEMY_DATABASE_URI=None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'i' / 'labsafe.sqlite3'}"
