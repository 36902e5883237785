"""The incident and escalation services as registrations for the gRPC server."""

from __future__ import annotations

from typing import Final

import grpc

from adapters.grpc.escalation_servicer import GrpcEscalationServicer
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as epb_grpc
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as ipb_grpc
from adapters.grpc.incident_servicer import GrpcIncidentServicer
from adapters.grpc.server import ServiceRegistration
from application.escalations import Escalations
from application.incidents import Incidents
from application.planned_changes import PlannedChanges

INCIDENT_SERVICE: Final = ipb.DESCRIPTOR.services_by_name["IncidentService"].full_name
ESCALATION_SERVICE: Final = epb.DESCRIPTOR.services_by_name["EscalationService"].full_name


def register_service_management(
    incidents: Incidents, escalations: Escalations, changes: PlannedChanges
) -> list[ServiceRegistration]:
    """The registrations of the incident (with planned changes) and escalation services."""

    def incident_service(server: grpc.aio.Server) -> str:
        ipb_grpc.add_IncidentServiceServicer_to_server(
            GrpcIncidentServicer(incidents, changes), server
        )
        return INCIDENT_SERVICE

    def escalation_service(server: grpc.aio.Server) -> str:
        epb_grpc.add_EscalationServiceServicer_to_server(
            GrpcEscalationServicer(escalations), server
        )
        return ESCALATION_SERVICE

    return [incident_service, escalation_service]
