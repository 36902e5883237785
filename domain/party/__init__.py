"""Parties to the SSBTEK agreement: onboarding, caseworkers, leaving (004 § 9, 12.4, 17, 18)."""
