"""Operational metrics (Prometheus) and admission limits."""
