"""Demo: a university to try LabSafe with (`flask demo-data`, data.py; `flask demo-logins`) and two months
of its inspections, tickets and nightly runs (`flask demo-activity`, services.py)."""
