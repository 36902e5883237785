"""Service management (004 Bilaga 4 § 3.2-3.5): incidents, problems and their service levels."""
