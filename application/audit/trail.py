"""``AuditTrail``: what an auditor asks of the service, one call each.

Replay the events, verify the chains against their seals, and build the monthly report.
The gRPC servicer and the ``ssbtek audit`` command both use it, on the running service's
applications or on stores opened read-only from an auditor's copy.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence

from eventsourcing.persistence import ApplicationRecorder

from application.audit.ports import SignatureVerifier
from application.audit.replay import POLL_INTERVAL_S, Replay, ReplayedEvent, ReplayFilter
from application.audit.replay_index import PositionIndex
from application.audit.report import MonthlyReports
from application.audit.report_model import Month, MonthlyReport
from application.audit.seals import StoredSeal
from application.audit.verdict import AuditVerdict, SealAnchor
from application.audit.verification import SealSource, verify_logs
from application.errors import InvalidRequestError
from application.log_reader import StoredFormat
from domain.errors import FieldViolation


class AuditTrail:
    """The audit use cases over the given logs (name -> recorder; ``None``: store missing)."""

    def __init__(
        self,
        logs: Mapping[str, ApplicationRecorder | None],
        seals: SealSource,
        verifier: SignatureVerifier,
        reports: MonthlyReports | None,
        stored: StoredFormat,
        indexes: Mapping[str, PositionIndex] | None = None,
    ) -> None:
        """``indexes``: the logs' indexes of positions by organisation, for the replay."""
        self._logs = dict(logs)
        self._seals = seals
        self._verifier = verifier
        self._reports = reports
        present = {n: r for n, r in self._logs.items() if r is not None}
        self._replay = Replay(present, stored, indexes=indexes)

    @property
    def applications(self) -> list[str]:
        return list(self._logs)

    def replay(
        self, chosen: ReplayFilter, after: Mapping[str, int] | None = None
    ) -> Iterator[ReplayedEvent]:
        """The matching events stored now."""
        return self._replay.events(chosen, after)

    def stream(
        self,
        chosen: ReplayFilter,
        after: Mapping[str, int] | None = None,
        *,
        follow: bool = False,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> AsyncGenerator[ReplayedEvent, None]:
        """The matching events, then (with ``follow``) each new one as it is stored."""
        return self._replay.stream(chosen, after, follow=follow, poll_interval_s=poll_interval_s)

    def positions(self) -> dict[str, int]:
        """The newest position of each log (for progress bars)."""
        return {
            name: recorder.max_notification_id() or 0
            for name, recorder in self._logs.items()
            if recorder is not None
        }

    def verify(
        self,
        applications: Sequence[str] = (),
        anchors: Sequence[SealAnchor] = (),
        *,
        resume: bool = False,
    ) -> AuditVerdict:
        """Verify the chosen logs (all, and every log with seals, when none are chosen); with
        ``resume``, each log that has a kept anchor from its latest anchor on (ADR 0027)."""
        unknown = [
            FieldViolation(f"applications[{index}]", "is not an application of this service")
            for index, name in enumerate(applications)
            if name not in self._logs
        ]
        if unknown:
            raise InvalidRequestError(unknown)
        if applications:
            chosen = {name: self._logs[name] for name in applications}
            return verify_logs(
                chosen, _Only(self._seals, applications), self._verifier, anchors, resume=resume
            )
        return verify_logs(self._logs, self._seals, self._verifier, anchors, resume=resume)

    def report(self, month: Month) -> MonthlyReport:
        if self._reports is None:
            raise InvalidRequestError([FieldViolation("month", "no Queries log to report on")])
        return self._reports.build(month)


class _Only:
    """The seal source restricted to some applications."""

    def __init__(self, seals: SealSource, applications: Sequence[str]) -> None:
        self._seals = seals
        self._applications = list(applications)

    def stored_seals(self, application: str, *, from_sequence: int = 0) -> list[StoredSeal]:
        return self._seals.stored_seals(application, from_sequence=from_sequence)

    def sealed_applications(self) -> list[str]:
        return self._applications
