"""``GrpcIncidentServicer``: thin. Read the request, make one application call, translate back.

The application's calls touch the event store synchronously, so each runs in a worker
thread and the event loop keeps serving queries meanwhile.
"""

from __future__ import annotations

import asyncio

from adapters.grpc import paging
from adapters.grpc.change_translation import change_to_proto, moment
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as pb_grpc
from adapters.grpc.interceptors import Context
from adapters.grpc.service_management_translation import (
    ServiceManagementFields,
    filtered_page,
    incident_to_proto,
    limit,
    one_uuid,
    problem_to_proto,
)
from application.incidents import Incidents
from application.planned_changes import PlannedChanges
from domain.incident.service_levels import Impact


class GrpcIncidentServicer(pb_grpc.IncidentServiceServicer):
    def __init__(self, incidents: Incidents, changes: PlannedChanges) -> None:
        self._incidents = incidents
        self._changes = changes

    async def AnnounceChange(
        self, request: pb.AnnounceChangeRequest, context: Context
    ) -> pb.AnnounceChangeResponse:
        fields = ServiceManagementFields()
        reference = fields.reference("reference", request.reference)
        start, end = moment(request.window_start), moment(request.window_end)
        if start is None:
            fields.fail("window_start", "is required")
        if end is None:
            fields.fail("window_end", "is required")
        fields.done()
        assert start is not None
        assert end is not None
        change = await asyncio.to_thread(self._changes.announce, reference, start, end)
        return pb.AnnounceChangeResponse(change=change_to_proto(change))

    async def CompleteChange(
        self, request: pb.CompleteChangeRequest, context: Context
    ) -> pb.CompleteChangeResponse:
        fields = ServiceManagementFields()
        change_id = fields.uuid("change_id", request.change_id)
        fields.done()
        change = await asyncio.to_thread(self._changes.complete, change_id)
        return pb.CompleteChangeResponse(change=change_to_proto(change))

    async def ListChanges(
        self, request: pb.ListChangesRequest, context: Context
    ) -> pb.ListChangesResponse:
        before = paging.decode(request.page_token, "changes")
        page = await asyncio.to_thread(
            self._changes.page, limit=limit(request.limit), before=before
        )
        return pb.ListChangesResponse(
            changes=[change_to_proto(c) for c in page.items],
            next_page_token=paging.encode("changes", page.next_before),
        )

    async def RegisterIncident(
        self, request: pb.RegisterIncidentRequest, context: Context
    ) -> pb.RegisterIncidentResponse:
        fields = ServiceManagementFields()
        reporter = fields.reporter("reporter", request.reporter)
        impact = fields.enum(
            "impact",
            pb.IncidentImpact.Name,
            request.impact,
            "INCIDENT_IMPACT_",
            Impact,
            required=True,
        )
        priority = fields.priority("priority", request.priority, required=False)
        providers = fields.providers("providers", request.providers)
        fields.done()
        assert impact is not None
        incident_id = await asyncio.to_thread(
            self._incidents.register_incident,
            reporter,
            impact,
            priority=priority,
            providers=providers,
        )
        incident = await asyncio.to_thread(self._incidents.get_incident, incident_id)
        return pb.RegisterIncidentResponse(incident=incident_to_proto(incident))

    async def PrioritiseIncident(
        self, request: pb.PrioritiseIncidentRequest, context: Context
    ) -> pb.PrioritiseIncidentResponse:
        fields = ServiceManagementFields()
        incident_id = fields.uuid("incident_id", request.incident_id)
        priority = fields.priority("priority", request.priority, required=True)
        fields.done()
        assert priority is not None
        incident = await asyncio.to_thread(
            self._incidents.prioritise_incident, incident_id, priority
        )
        return pb.PrioritiseIncidentResponse(incident=incident_to_proto(incident))

    async def RespondToIncident(
        self, request: pb.RespondToIncidentRequest, context: Context
    ) -> pb.RespondToIncidentResponse:
        incident_id = one_uuid("incident_id", request.incident_id)
        incident = await asyncio.to_thread(self._incidents.respond_to_incident, incident_id)
        return pb.RespondToIncidentResponse(incident=incident_to_proto(incident))

    async def ResolveIncident(
        self, request: pb.ResolveIncidentRequest, context: Context
    ) -> pb.ResolveIncidentResponse:
        incident_id = one_uuid("incident_id", request.incident_id)
        incident = await asyncio.to_thread(self._incidents.resolve_incident, incident_id)
        return pb.ResolveIncidentResponse(incident=incident_to_proto(incident))

    async def ReportIncidentBack(
        self, request: pb.ReportIncidentBackRequest, context: Context
    ) -> pb.ReportIncidentBackResponse:
        incident_id = one_uuid("incident_id", request.incident_id)
        incident = await asyncio.to_thread(self._incidents.report_incident_back, incident_id)
        return pb.ReportIncidentBackResponse(incident=incident_to_proto(incident))

    async def GetIncident(
        self, request: pb.GetIncidentRequest, context: Context
    ) -> pb.GetIncidentResponse:
        incident_id = one_uuid("incident_id", request.incident_id)
        incident = await asyncio.to_thread(self._incidents.get_incident, incident_id)
        return pb.GetIncidentResponse(incident=incident_to_proto(incident))

    async def ListIncidents(
        self, request: pb.ListIncidentsRequest, context: Context
    ) -> pb.ListIncidentsResponse:
        items, token = await filtered_page("incidents", request, self._incidents.page_incidents)
        return pb.ListIncidentsResponse(
            incidents=[incident_to_proto(i) for i in items], next_page_token=token
        )

    async def RegisterProblem(
        self, request: pb.RegisterProblemRequest, context: Context
    ) -> pb.RegisterProblemResponse:
        fields = ServiceManagementFields()
        incident_ids = fields.uuids("incident_ids", request.incident_ids)
        priority = fields.priority("priority", request.priority, required=True)
        if not incident_ids:
            fields.fail("incident_ids", "must name at least one incident")
        fields.done()
        assert priority is not None
        problem_id = await asyncio.to_thread(
            self._incidents.register_problem, incident_ids, priority
        )
        problem = await asyncio.to_thread(self._incidents.get_problem, problem_id)
        return pb.RegisterProblemResponse(problem=problem_to_proto(problem))

    async def LinkIncidentsToProblem(
        self, request: pb.LinkIncidentsToProblemRequest, context: Context
    ) -> pb.LinkIncidentsToProblemResponse:
        fields = ServiceManagementFields()
        problem_id = fields.uuid("problem_id", request.problem_id)
        incident_ids = fields.uuids("incident_ids", request.incident_ids)
        if not incident_ids:
            fields.fail("incident_ids", "must name at least one incident")
        fields.done()
        problem = await asyncio.to_thread(
            self._incidents.link_incidents_to_problem, problem_id, incident_ids
        )
        return pb.LinkIncidentsToProblemResponse(problem=problem_to_proto(problem))

    async def PrioritiseProblem(
        self, request: pb.PrioritiseProblemRequest, context: Context
    ) -> pb.PrioritiseProblemResponse:
        fields = ServiceManagementFields()
        problem_id = fields.uuid("problem_id", request.problem_id)
        priority = fields.priority("priority", request.priority, required=True)
        fields.done()
        assert priority is not None
        problem = await asyncio.to_thread(self._incidents.prioritise_problem, problem_id, priority)
        return pb.PrioritiseProblemResponse(problem=problem_to_proto(problem))

    async def StartProblemInvestigation(
        self, request: pb.StartProblemInvestigationRequest, context: Context
    ) -> pb.StartProblemInvestigationResponse:
        problem_id = one_uuid("problem_id", request.problem_id)
        problem = await asyncio.to_thread(self._incidents.start_problem_investigation, problem_id)
        return pb.StartProblemInvestigationResponse(problem=problem_to_proto(problem))

    async def EstablishKnownError(
        self, request: pb.EstablishKnownErrorRequest, context: Context
    ) -> pb.EstablishKnownErrorResponse:
        fields = ServiceManagementFields()
        problem_id = fields.uuid("problem_id", request.problem_id)
        known_error = fields.reference("known_error", request.known_error)
        fields.done()
        problem = await asyncio.to_thread(
            self._incidents.establish_known_error,
            problem_id,
            known_error,
            workaround_available=request.workaround_available,
        )
        return pb.EstablishKnownErrorResponse(problem=problem_to_proto(problem))

    async def GetProblem(
        self, request: pb.GetProblemRequest, context: Context
    ) -> pb.GetProblemResponse:
        problem_id = one_uuid("problem_id", request.problem_id)
        problem = await asyncio.to_thread(self._incidents.get_problem, problem_id)
        return pb.GetProblemResponse(problem=problem_to_proto(problem))

    async def ListProblems(
        self, request: pb.ListProblemsRequest, context: Context
    ) -> pb.ListProblemsResponse:
        items, token = await filtered_page("problems", request, self._incidents.page_problems)
        return pb.ListProblemsResponse(
            problems=[problem_to_proto(p) for p in items], next_page_token=token
        )
