"""The database machinery: how a request's transaction starts on each database, SQLite's settings
and the mark views carry. What each piece is for and which database needs it:
app/db/README.md."""
from app.db.transactions import init_app, write_lock_at_first_write, writes_on_get

__all__ = ["init_app", "write_lock_at_first_write", "writes_on_get"]
