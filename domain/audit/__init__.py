"""The tamper-evident audit trail: a hash chain over every application's stored events, and
the signed seals that vouch for it (ADR 0011)."""
