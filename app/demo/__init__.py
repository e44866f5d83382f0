"""Demo activity: two months of inspections, tickets and nightly runs for `flask demo-data`'s labs."""
