"""The Query aggregate: the non-personal audit trail of one query and its answer."""
