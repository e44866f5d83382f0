"""Operations: backup and restore (issue 8)."""
