"""``GrpcEscalationServicer``: thin. Read the request, make one application call, translate back."""

from __future__ import annotations

import asyncio

from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as pb_grpc
from adapters.grpc.interceptors import Context
from adapters.grpc.service_management_translation import (
    ServiceManagementFields,
    escalation_to_proto,
    filtered_page,
    one_uuid,
)
from application.escalations import Escalations
from domain.escalation.values import Forum


class GrpcEscalationServicer(pb_grpc.EscalationServiceServicer):
    def __init__(self, escalations: Escalations) -> None:
        self._escalations = escalations

    async def RaiseDispute(
        self, request: pb.RaiseDisputeRequest, context: Context
    ) -> pb.RaiseDisputeResponse:
        fields = ServiceManagementFields()
        raised_by = fields.actor("raised_by", request.raised_by)
        parties = [fields.party(f"parties[{i}]", p) for i, p in enumerate(request.parties)]
        subject = fields.reference("subject", request.subject)
        forum = fields.forum("forum", request.forum, required=False)
        fields.done()
        escalation_id = await asyncio.to_thread(
            self._escalations.raise_dispute, raised_by, parties, subject, forum=forum
        )
        escalation = await asyncio.to_thread(self._escalations.get_escalation, escalation_id)
        return pb.RaiseDisputeResponse(escalation=escalation_to_proto(escalation))

    async def ReferToExpertCouncil(
        self, request: pb.ReferToExpertCouncilRequest, context: Context
    ) -> pb.ReferToExpertCouncilResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        by = fields.actor("by", request.by)
        fields.done()
        escalation = await asyncio.to_thread(
            self._escalations.refer_to_expert_council, escalation_id, by
        )
        return pb.ReferToExpertCouncilResponse(escalation=escalation_to_proto(escalation))

    async def SettleDispute(
        self, request: pb.SettleDisputeRequest, context: Context
    ) -> pb.SettleDisputeResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        outcome = fields.reference("outcome", request.outcome)
        fields.done()
        escalation = await asyncio.to_thread(self._escalations.settle, escalation_id, outcome)
        return pb.SettleDisputeResponse(escalation=escalation_to_proto(escalation))

    async def EscalateDispute(
        self, request: pb.EscalateDisputeRequest, context: Context
    ) -> pb.EscalateDisputeResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        by = fields.actor("by", request.by)
        fields.done()
        escalation = await asyncio.to_thread(self._escalations.escalate, escalation_id, by)
        return pb.EscalateDisputeResponse(escalation=escalation_to_proto(escalation))

    async def SubmitView(
        self, request: pb.SubmitViewRequest, context: Context
    ) -> pb.SubmitViewResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        by = fields.actor("by", request.by)
        view = fields.reference("view", request.view)
        fields.done()
        escalation = await asyncio.to_thread(self._escalations.submit_view, escalation_id, by, view)
        return pb.SubmitViewResponse(escalation=escalation_to_proto(escalation))

    async def RecordRecommendation(
        self, request: pb.RecordRecommendationRequest, context: Context
    ) -> pb.RecordRecommendationResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        recommendation = fields.reference("recommendation", request.recommendation)
        fields.done()
        escalation = await asyncio.to_thread(
            self._escalations.record_recommendation, escalation_id, recommendation
        )
        return pb.RecordRecommendationResponse(escalation=escalation_to_proto(escalation))

    async def RequestMaterial(
        self, request: pb.RequestMaterialRequest, context: Context
    ) -> pb.RequestMaterialResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        from_forum = fields.forum("from_forum", request.from_forum, required=True)
        group = fields.reference("group", request.group)
        fields.done()
        escalation = await asyncio.to_thread(
            self._escalations.request_material,
            escalation_id,
            from_forum or Forum.STEERING_GROUP,
            group,
        )
        return pb.RequestMaterialResponse(escalation=escalation_to_proto(escalation))

    async def ProvideMaterial(
        self, request: pb.ProvideMaterialRequest, context: Context
    ) -> pb.ProvideMaterialResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        material = fields.reference("material", request.material)
        fields.done()
        escalation = await asyncio.to_thread(
            self._escalations.provide_material, escalation_id, material
        )
        return pb.ProvideMaterialResponse(escalation=escalation_to_proto(escalation))

    async def DecideDispute(
        self, request: pb.DecideDisputeRequest, context: Context
    ) -> pb.DecideDisputeResponse:
        fields = ServiceManagementFields()
        escalation_id = fields.uuid("escalation_id", request.escalation_id)
        decision = fields.reference("decision", request.decision)
        fields.done()
        escalation = await asyncio.to_thread(self._escalations.decide, escalation_id, decision)
        return pb.DecideDisputeResponse(escalation=escalation_to_proto(escalation))

    async def GetEscalation(
        self, request: pb.GetEscalationRequest, context: Context
    ) -> pb.GetEscalationResponse:
        escalation_id = one_uuid("escalation_id", request.escalation_id)
        escalation = await asyncio.to_thread(self._escalations.get_escalation, escalation_id)
        return pb.GetEscalationResponse(escalation=escalation_to_proto(escalation))

    async def ListEscalations(
        self, request: pb.ListEscalationsRequest, context: Context
    ) -> pb.ListEscalationsResponse:
        items, token = await filtered_page(
            "escalations", request, self._escalations.page_escalations
        )
        return pb.ListEscalationsResponse(
            escalations=[escalation_to_proto(e) for e in items], next_page_token=token
        )
