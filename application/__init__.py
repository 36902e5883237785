"""Use cases of SSBTEK Core on ``eventsourcing.Application``, and the ports they need."""
