"""One ``Fields`` reads every servicer's requests: each broken field is named once, with its
rule and never its value, and ``done()`` refuses them all together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

import pytest
from google.type.date_pb2 import Date

from adapters.grpc.fields import Fields
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.service_management_translation import ServiceManagementFields
from application.errors import InvalidRequestError
from domain.errors import FieldViolation
from domain.incident.service_levels import Priority
from domain.party.values import PartyRole


def test_valid_fields_pass_and_done_does_not_refuse() -> None:
    fields = Fields()
    role = fields.enum(
        "role", pb.PartyRole.Name, pb.PARTY_ROLE_MUNICIPALITY, "PARTY_ROLE_", PartyRole
    )
    day = fields.date("day", Date(year=2026, month=2, day=28))
    amount = fields.amount("fee", " 12.50 ")
    one = fields.uuid("id", "00000000-0000-0000-0000-000000000001")
    fields.done()
    assert role is PartyRole.MUNICIPALITY
    assert day == dt.date(2026, 2, 28)
    assert amount == Decimal("12.50")
    assert one == UUID(int=1)


def test_every_broken_field_is_named_with_its_rule_and_refused_at_once() -> None:
    fields = Fields()
    assert fields.enum("role", pb.PartyRole.Name, 0, "PARTY_ROLE_", PartyRole) is None
    assert fields.enum("role2", pb.PartyRole.Name, 999, "PARTY_ROLE_", PartyRole) is None
    assert (
        fields.enum("optional", pb.PartyRole.Name, 0, "PARTY_ROLE_", PartyRole, required=False)
        is None
    )
    assert fields.date("day", Date(year=2026, month=2, day=30)) is None
    assert fields.date("none", Date(), required=False) is None
    assert fields.amount("fee", "12,50 kr") is None
    assert fields.amount("nan", "NaN") is None
    fields.uuids("ids", ["00000000-0000-0000-0000-000000000001", "not-a-uuid"])
    with pytest.raises(InvalidRequestError) as raised:
        fields.done()
    assert raised.value.violations == (
        FieldViolation("role", "is required"),
        FieldViolation("role2", "is not a known value"),
        FieldViolation("day", "must be a valid date"),
        FieldViolation("fee", "must be a decimal amount in SEK"),
        FieldViolation("nan", "must be a decimal amount in SEK"),
        FieldViolation("ids[1]", "must be a UUID"),
    )


def test_a_services_own_readers_build_on_the_same_fields() -> None:
    fields = ServiceManagementFields()
    assert fields.priority("priority", ipb.INCIDENT_PRIORITY_HIGH, required=True) is Priority.HIGH
    assert fields.priority("other", 0, required=True) is None
    with pytest.raises(InvalidRequestError) as raised:
        fields.done()
    assert raised.value.violations == (FieldViolation("other", "is required"),)
