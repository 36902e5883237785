"""The agreement documents, their versions and precedence, and the annual fee (001 § 4; 000)."""
