"""Adapters: gRPC at the edge, base services, persistence and keys plug into the ports here."""
