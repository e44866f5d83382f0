"""config.py: production refuses to start without a real secret; development keeps one under instance/."""
from __future__ import annotations

import stat

import pytest

from app import create_app


def _prod(tmp_path, **overrides):
    settings = dict(
        INSTANCE_PATH=str(tmp_path / "instance"),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        PUBLIC_BASE_URL="https://labsafe.example.edu.cn",
        SINGLE_PROCESS=True,
    )
    settings.update(overrides)
    return create_app("production", **settings)


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


@pytest.mark.parametrize("base", [None, "", "labsafe.example.edu.cn", "javascript:alert(1)", "https://"])
def test_production_refuses_to_start_without_a_public_base_url(tmp_path, base):
    """Without it the QR codes on the nameplates would print whatever Host header a request sent."""
    with pytest.raises(RuntimeError, match="LABSAFE_PUBLIC_BASE_URL must be set in production"):
        _prod(tmp_path, SECRET_KEY="x" * 48, PUBLIC_BASE_URL=base)


def test_production_answers_only_the_trusted_hosts_when_they_are_set(tmp_path):
    app = _prod(tmp_path, SECRET_KEY="x" * 48, TRUSTED_HOSTS=["labsafe.example.edu.cn"])
    client = app.test_client()
    assert client.get("/login", base_url="https://labsafe.example.edu.cn").status_code == 200
    assert client.get("/login", base_url="https://evil.example").status_code == 400


def test_development_secret_is_generated_once_under_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    kwargs = dict(
        INSTANCE_PATH=str(tmp_path / "instance"),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'd.sqlite3'}",
        SECRET_KEY=None,
    )
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
