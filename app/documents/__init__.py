"""Issued documents: the official record as PDF, filed once and never changed (art. 28-30)."""
