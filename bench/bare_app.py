"""The ceiling for bench.load: a bare Flask app with one trivial JSON endpoint, served the same way
(gunicorn, same workers and threads) as LabSafe. Nothing LabSafe does per request happens here."""
from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"ok": True}
