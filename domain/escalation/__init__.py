"""Cooperation and escalation of disputes between the parties (004 § 5 and § 10)."""
