"""gunicorn settings for LabSafe: `gunicorn -c deploy/gunicorn.conf.py wsgi:app` (deploy/README.md).

Every figure can be set from the same environment file as the app (/etc/labsafe/labsafe.env).
Why these values: docs/CAPACITY.md and docs/PERFORMANCE.md."""
from __future__ import annotations

import os
import shutil


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity (taskset, cpusets), and a cgroup v2 CPU quota
    (systemd's CPUQuota=, a container's --cpus) when one is set and smaller."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            quota, period = fh.read().split()
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))  # rounded up
    except (OSError, ValueError):
        pass
    return max(1, cores)


# Where gunicorn listens: nginx on the same host proxies to it (deploy/nginx/labsafe.conf).
bind = os.environ.get("LABSAFE_BIND", "127.0.0.1:8000").split(",")

# The work is CPU-bound (the password hash, photo decoding, PDF rendering, JSON and ORM): about two
# worker processes per core keep the cores busy while some requests wait on PostgreSQL; the threads
# are for the photo uploads that reach the app as they arrive (nginx does not buffer them, so the
# upload can resume), which wait on the phone's link, not on the CPU.
worker_class = "gthread"
workers = _int("LABSAFE_WORKERS", _int("LABSAFE_WORKERS_PER_CORE", 2) * usable_cores())
threads = _int("LABSAFE_THREADS", 4)

# Timeouts. With gthread, `timeout` is how long the master waits for a worker's heartbeat (a
# worker blocked that long is killed and restarted), not a limit on one request. The longest
# requests measured (docs/PERFORMANCE.md): a document's first download renders it (a 95-item record
# with 10 photos: 2.9 s CPU, 11.6 s wall on a loaded machine), the monthly summary at 5,000 labs
# (1.2-1.5 s), a college month's ZIP (330 MB streamed to nginx in 1.8 s, nginx buffers it to the
# phone), a photo upload (~0.15 s CPU once its bytes are in; the bytes arrive at the phone's pace,
# nginx cuts a silent upload after 20 s). 120 s is ten times the slowest, and matches nginx's
# proxy_read_timeout.
timeout = _int("LABSAFE_GUNICORN_TIMEOUT", 120)
# On restart or upgrade (SIGHUP, SIGTERM) a worker finishes what it is serving: a ZIP or an upload.
graceful_timeout = _int("LABSAFE_GUNICORN_GRACEFUL_TIMEOUT", 60)
# nginx keeps connections to gunicorn open (upstream keepalive); shorter than nginx's 60 s.
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): WeasyPrint and
# Pillow can leave a worker's memory high after a large document or photo.
max_requests = _int("LABSAFE_GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# The proxy's headers. The app trusts LABSAFE_TRUSTED_PROXIES hops of X-Forwarded-For/-Proto
# (werkzeug's ProxyFix, app/security.py); gunicorn reads X-Forwarded-Proto itself only from the
# addresses listed here. The same variable decides both: no proxy declared, nothing trusted.
_trusted_proxies = _int("LABSAFE_TRUSTED_PROXIES", 0)
forwarded_allow_ips = os.environ.get("LABSAFE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if _trusted_proxies else ""

# Logs to stderr, which systemd sends to the journal. With LABSAFE_LOG_FORMAT=json the app writes
# one JSON line per request itself (with its request id), so gunicorn's access log is off.
errorlog = "-"
accesslog = None if os.environ.get("LABSAFE_LOG_FORMAT", "text").lower() == "json" else "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-request-id}o)s"'

proc_name = "labsafe"


def on_starting(server):
    """Prometheus's multiprocess mode (app/monitoring/metrics.py): every worker writes its counters to
    files in PROMETHEUS_MULTIPROC_DIR; the files of a previous run must go before the first worker."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # only in multiprocess mode: importing it reads the variable

        multiprocess.mark_process_dead(worker.pid)
