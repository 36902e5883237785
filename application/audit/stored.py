"""The audit chain's view of a stored event: its link digest over the stored bytes.

The log itself is read through ``application.log_reader`` (re-exported here for the audit
modules); a field of a stored state is read through the ``StoredFormat`` port.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Notification

from application.log_reader import BATCH, MARGIN, first_position_at_or_after, notifications
from domain.audit.chain import link_digest

__all__ = ["BATCH", "MARGIN", "first_position_at_or_after", "link_of", "notifications"]


def originator_text(originator_id: UUID | str) -> str:
    """The originator id as the chain encodes it: a UUID in its canonical 36-character form."""
    return str(originator_id)


def link_of(notification: Notification) -> bytes:
    """The link digest of one stored event (``domain.audit.chain.link_digest``)."""
    return link_digest(
        notification.topic,
        originator_text(notification.originator_id),
        notification.originator_version,
        notification.state,
    )
