"""How long a refused login takes, by why it is refused: timing must not tell an unknown, a
deactivated or a throttled account from a wrong password (app/auth/throttle.py).

`python -m bench.login_timing [DATABASE_URL]`: in one process through the test client (SQLite in a
temporary directory by default); the median and spread of N logins per case, in ms.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

N = 15


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app import create_app
    from app.auth import services
    from app.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="labsafe-login-timing-"))
    url = argv[0] if argv else f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=str(tmp / "instance"),
                     WTF_CSRF_ENABLED=False, LOGIN_MAX_FAILURES=5, LOGIN_MAX_FAILURES_PER_ADDRESS=10_000)
    password = "correct horse battery"
    with app.app_context():
        db.create_all()
        for name, active in (("active", True), ("deactivated", False), ("locked", True)):
            user = services.create_user(name, name, password)
            user.active = active
        db.session.commit()
    client = app.test_client()

    def login(username, pw, address="10.0.0.1"):
        with app.app_context():
            t, cpu = time.perf_counter(), time.process_time()
            status = client.post("/api/login", json={"username": username, "password": pw},
                                 environ_base={"REMOTE_ADDR": address}).status_code
            return (time.perf_counter() - t) * 1000, status, (time.process_time() - cpu) * 1000

    for _ in range(5):
        login("locked", "wrong", "10.9.9.9")
    cases = {
        "wrong password": ("active", "wrong"),
        "unknown account": ("nobody", password),
        "deactivated account": ("deactivated", password),
        "locked account": ("locked", password),
        "right password": ("active", password),
    }
    def forget(username):  # keeps an account under its limit between its failures
        with app.app_context():
            from app.auth.models import LoginAttempt

            db.session.execute(db.delete(LoginAttempt).where(LoginAttempt.username == username))
            db.session.commit()

    print(f"{'case':<22}{'status':>7}{'median ms':>11}{'min':>8}{'max':>8}{'cpu ms':>9}   (n={N}; cpu: median)")
    for case, (username, pw) in cases.items():
        samples = []
        for _ in range(N):
            if username != "locked":
                forget(username)
            samples.append(login(username, pw))
        times = [t for t, _, _ in samples]
        assert len({status for _, status, _ in samples}) == 1, (case, samples)
        cpu = statistics.median(c for _, _, c in samples)
        print(f"{case:<22}{samples[0][1]:>7}{statistics.median(times):>11.1f}{min(times):>8.1f}{max(times):>8.1f}"
              f"{cpu:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
