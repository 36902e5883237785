"""Planned changes to and from protobuf."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as pb
from domain.incident.planned_change import PlannedChange


def _stamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def change_to_proto(change: PlannedChange) -> pb.PlannedChange:
    message = pb.PlannedChange(
        change_id=str(change.id),
        reference=change.reference,
        window_start=_stamp(change.window_start),
        window_end=_stamp(change.window_end),
        status=pb.ChangeStatus.Value(f"CHANGE_STATUS_{change.status.value}"),
        overrun_minutes=change.overrun_minutes,
        overrun_opening_minutes=change.overrun_opening_minutes,
    )
    if change.completed_at is not None:
        message.completed_at.CopyFrom(_stamp(change.completed_at))
    return message


def moment(stamp: Timestamp) -> dt.datetime | None:
    """A set timestamp as an aware datetime; ``None`` when the field was left empty."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return stamp.ToDatetime(tzinfo=dt.UTC)
