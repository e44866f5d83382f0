"""deploy/ checked by the tools that read it: nginx -t, systemd-analyze verify, gunicorn --check-config;
and gunicorn run with deploy/gunicorn.conf.py, several workers, scraped in multiprocess mode."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config import Config

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
# Ports given to this work (18700-18799); the live gunicorn test binds one of them.
GUNICORN_PORT = 18731


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


# ---- nginx ------------------------------------------------------------------------------------------

@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light; .ci/run does)")
def test_the_nginx_site_passes_nginx_t(tmp_path):
    """The site inside a minimal http block, with a self-signed certificate made here and every path
    the site writes moved under a temporary prefix."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=labsafe.test",
                 "-keyout", str(key), "-out", str(cert)])
    assert made.returncode == 0, made.stderr
    site = (DEPLOY / "nginx" / "labsafe.conf").read_text()
    for old, new in {"/etc/ssl/labsafe/fullchain.pem": cert, "/etc/ssl/labsafe/privkey.pem": key,
                     "/var/cache/nginx/labsafe": tmp_path / "cache", "/var/log/nginx/": f"{tmp_path}/"}.items():
        assert str(old) in site
        site = site.replace(str(old), str(new))
    (tmp_path / "site.conf").write_text(site)
    mime = "/etc/nginx/mime.types"
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    {'include ' + mime + ';' if os.path.exists(mime) else ''}
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    include {tmp_path}/site.conf;
}}
""")
    checked = _run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    # nginx >= 1.25.1 deprecates `listen ... http2` for `http2 on;`, which Debian 12's 1.22 does not know.
    warnings = [line for line in checked.stderr.splitlines() if "[warn]" in line and "http2" not in line]
    assert not warnings, checked.stderr


def _nginx_size(value: str) -> int:
    m = re.fullmatch(r"(\d+)([kmg]?)", value.lower())
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2)]


def test_nginx_takes_the_largest_request_the_app_takes():
    site = (DEPLOY / "nginx" / "labsafe.conf").read_text()
    (size,) = re.findall(r"^\s*client_max_body_size\s+(\S+);", site, re.M)
    assert _nginx_size(size) == Config.MAX_CONTENT_LENGTH
    # Resumable uploads reach the app as they arrive; every other body is buffered by nginx.
    photos = site[site.index("location /api/photos/"):]
    assert "proxy_request_buffering off;" in photos[:photos.index("}")]
    assert site.count("proxy_request_buffering off;") == 1
    metrics = site[site.index("location = /metrics"):]
    assert "deny all;" in metrics[:metrics.index("}")]


# ---- systemd ----------------------------------------------------------------------------------------

UNITS = sorted((DEPLOY / "systemd").glob("*.service")) + sorted((DEPLOY / "systemd").glob("*.timer"))


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (a system without systemd)")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    # The units name /srv/labsafe; verify checks that ExecStart's programs exist, so they point here.
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/srv/labsafe", str(ROOT)))
    checked = _run([SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())])
    assert checked.returncode == 0, checked.stderr
    ours = [line for line in checked.stderr.splitlines() if str(tmp_path) in line or "labsafe" in line]
    assert not ours, "\n".join(ours)


def test_every_timer_is_persistent_and_runs_an_existing_command(app):
    timers = sorted((DEPLOY / "systemd").glob("*.timer"))
    assert {t.stem for t in timers} == {"labsafe-nightly", "labsafe-outbox", "labsafe-backup", "labsafe-prune-photos"}
    commands = set(app.cli.list_commands(None)) if hasattr(app.cli, "list_commands") else set(app.cli.commands)
    for timer in timers:
        assert re.search(r"^Persistent=true$", timer.read_text(), re.M), timer.name
        service = timer.with_suffix(".service").read_text()
        assert "Type=oneshot" in service and "EnvironmentFile=/etc/labsafe/labsafe.env" in service
        for cmd in re.findall(r"^ExecStart=\S+/flask (\S+)", service, re.M):
            assert cmd in commands, f"{timer.name}: flask {cmd} does not exist"
    nightly = (DEPLOY / "systemd" / "labsafe-nightly.timer").read_text()
    assert "OnCalendar=*-*-* 00:30:00 Asia/Shanghai" in nightly  # school time, whatever the server's clock


# ---- gunicorn ---------------------------------------------------------------------------------------

def _gunicorn_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABSAFE_", "PROMETHEUS_"))}
    env.update({"LABSAFE_CONFIG": "testing"}, **extra)
    return env


def _settings(monkeypatch, **env) -> dict:
    """deploy/gunicorn.conf.py's settings as gunicorn reads them (the file run as Python) in this environment;
    that gunicorn accepts them is test_gunicorn_check_config_passes' (loading the app takes seconds)."""
    for name in list(os.environ):
        if name.startswith("LABSAFE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), spec)
    return spec


def test_gunicorn_check_config_passes():
    checked = _run([str(BIN / "gunicorn"), "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                   cwd=ROOT, env=_gunicorn_env())
    assert checked.returncode == 0, checked.stderr + checked.stdout


def test_gunicorn_workers_per_core_and_proxies_from_the_apps_setting(monkeypatch):
    alone = _settings(monkeypatch)
    cores = alone["usable_cores"]()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert alone["workers"] == 2 * cores
    assert (alone["worker_class"], alone["threads"], alone["timeout"]) == ("gthread", 4, 120)
    assert alone["forwarded_allow_ips"] == ""  # no proxy declared to the app: gunicorn trusts none either
    assert alone["accesslog"] == "-"
    proxied = _settings(monkeypatch, LABSAFE_TRUSTED_PROXIES="1", LABSAFE_LOG_FORMAT="json",
                        LABSAFE_WORKERS_PER_CORE="3")
    assert proxied["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert proxied["accesslog"] is None  # the app logs each request as JSON itself
    assert proxied["workers"] == 3 * cores
    assert _settings(monkeypatch, LABSAFE_WORKERS="5")["workers"] == 5
    lb = _settings(monkeypatch, LABSAFE_TRUSTED_PROXIES="2", LABSAFE_FORWARDED_ALLOW_IPS="10.0.0.5")
    assert lb["forwarded_allow_ips"] == "10.0.0.5"


def _get(url, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_gunicorn_with_the_deploy_config_serves_metrics_of_every_worker(sqlite_app, tmp_path):
    """Two workers, multiprocess mode: a scrape (answered by one worker) counts every worker's requests;
    the log lines on stderr are JSON with the request ids."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "stale.db").write_bytes(b"left by a previous run")
    env = _gunicorn_env(
        DATABASE_URL=sqlite_app.config["SQLALCHEMY_DATABASE_URI"], LABSAFE_INSTANCE_PATH=str(tmp_path / "instance"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), LABSAFE_WORKERS="2", LABSAFE_THREADS="2",
        LABSAFE_BIND=f"127.0.0.1:{GUNICORN_PORT}", LABSAFE_LOG_FORMAT="json",
    )
    stderr = tmp_path / "gunicorn.err"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{GUNICORN_PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, stderr.read_text()[-2000:]
            assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
            time.sleep(0.2)
        assert not (metrics_dir / "stale.db").exists()  # on_starting emptied it
        n = 40
        for i in range(n):
            status, headers, _ = _get(base + "/healthz", **{"X-Request-ID": f"probe-{i}"})
            assert status == 200 and headers["X-Request-ID"] == f"probe-{i}"
        pids = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("*.db")}
        status, headers, body = _get(base + "/metrics")
        assert status == 200, body
        total = 0.0
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if s.name == "labsafe_http_requests_total" and s.labels.get("endpoint") == "monitoring.healthz":
                    total += s.value
        assert total >= n + 1  # every worker's count (and the wait's first probe), whichever worker answered
        assert len(pids) >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    ids = {line.get("request_id") for line in lines if line.get("logger") == "labsafe.request"}
    assert {f"probe-{i}" for i in range(n)} <= ids
