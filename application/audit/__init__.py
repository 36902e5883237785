"""The auditors' use cases: seal the event logs, verify them, replay them, and report the
month's service levels (ADR 0011, ADR 0012)."""
