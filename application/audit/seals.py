"""``AuditSeals``: the signed seals over every application's event log, in their own store.

One ``SealChain`` aggregate per sealed application. Sealing reads the application's
notification log from the last sealed position to the newest, runs the hash chain over
those events, and records a seal signed by the ``Signer`` port: the segment's positions
and truncated link digests, and the chain digests at its start and end (ADR 0011).
Seals live in their own store (their own SQLite file, or their own PostgreSQL table), so
they are never in the logs they vouch for. Opened without a signer, the application is a
read-only view for verification.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from itertools import islice
from typing import Final

import attrs
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import ApplicationRecorder

from application.audit.ports import Signer
from application.audit.stored import link_of, notifications
from application.base import ServiceApplication
from application.pacing import Pace, no_pacing
from application.ports import Clock
from domain.audit.chain import SealContent, chain_digests
from domain.audit.seal_chain import SealChain, seal_chain_id

SEGMENT_LIMIT: Final = 5000
"""At most this many events per seal, so one seal stays a small event (~90 kB)."""
PACED_EVENTS: Final = 500
"""Events read and hashed between two calls of the pacer (a few milliseconds of work)."""


@attrs.frozen
class StoredSeal:
    """A seal as read back from the store: its content and signature, or why it is unreadable."""

    version: int
    content: SealContent | None
    signature: bytes = b""
    problem: str = ""


class AuditSeals(ServiceApplication):
    """Seals the event logs of the other applications, and reads the seals back."""

    name = "AuditSeals"
    snapshotting_intervals = {SealChain: 10}  # noqa: RUF012 (the library's class variable)
    """A seal event holds up to 5 000 link digests (~160 kB of JSON); a snapshot holds the
    chain's head only. Every 10 seals, so a round loads at most 9 seal events (ADR 27:
    every 100 made an idle round at 5 M events take 0.8 s)."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        signer: Signer | None = None,
        segment_limit: int = SEGMENT_LIMIT,
    ) -> None:
        """Without ``signer`` the seals can be read and verified but no seal can be made."""
        self._clock = clock
        self._signer = signer
        self._segment_limit = segment_limit
        self._sealing = threading.Lock()
        super().__init__(env=env)

    def seal(
        self, application: str, log: ApplicationRecorder, *, pace: Pace = no_pacing
    ) -> list[SealContent]:
        """Seal every event of ``application``'s log recorded since its last seal, calling
        ``pace`` after every ``PACED_EVENTS`` events read and hashed.

        One seal per ``segment_limit`` events; nothing when there is nothing new. Two
        processes sealing the same log at once collide on the chain's version and one
        save fails (``IntegrityError``): the loser's next round starts from the winner's seal.
        """
        if self._signer is None:
            raise RuntimeError("these seals were opened read-only, without a signing key")
        signer = self._signer
        with self._sealing:
            chain = self._chain(application)
            upto = log.max_notification_id() or 0
            made: list[SealContent] = []
            while chain.last_position < upto:
                events = notifications(log, after=chain.last_position, upto=upto)
                entries: list[tuple[int, bytes]] = []
                for notification in islice(events, self._segment_limit):
                    entries.append((notification.id, link_of(notification)))
                    if len(entries) % PACED_EVENTS == 0:
                        pace()
                if not entries:
                    break
                end, truncated = chain_digests(bytes.fromhex(chain.end_digest), entries)
                at = self._clock.now()
                content = chain.next_content(
                    positions=tuple(position for position, _ in entries),
                    links=b"".join(truncated),
                    end_digest=end,
                    sealed_at=at,
                    key_id=signer.key_id,
                )
                chain.seal(content, signer.sign(content.payload()), at=at)
                self.save(chain)
                made.append(content)
            return made

    def _chain(self, application: str) -> SealChain:
        try:
            chain: SealChain = self.repository.get(seal_chain_id(application))
        except AggregateNotFoundError:
            return SealChain.start(application, at=self._clock.now())
        return chain

    def stored_seals(self, application: str, *, from_sequence: int = 0) -> list[StoredSeal]:
        """Every seal of ``application`` as stored (from seal number ``from_sequence`` on), in
        order, each decoded on its own: a seal whose stored state no longer decodes is
        reported, not fatal. Seal number N is the chain's version N + 1."""
        seals: list[StoredSeal] = []
        after = from_sequence if from_sequence > 0 else None
        for stored in self.recorder.select_events(seal_chain_id(application), gt=after):
            if stored.originator_version == 1:
                continue  # the chain's start: names the application, vouches for nothing
            try:
                event = self.mapper.to_domain_event(stored)
                if not isinstance(event, SealChain.Sealed):
                    raise TypeError(type(event).__name__)
                seals.append(
                    StoredSeal(
                        stored.originator_version, event.content(), bytes.fromhex(event.signature)
                    )
                )
            except Exception as error:
                seals.append(StoredSeal(stored.originator_version, None, problem=_kind(error)))
        return seals

    def sealed_applications(self) -> list[str]:
        """The names of the applications with seals, in the order their chains started (from
        every seal, so a chain whose first event was removed is still found)."""
        names: dict[str, None] = {}
        chains: dict[str, str] = {}  # chain id -> application, decoded once per chain
        for notification in notifications(self.recorder):
            key = str(notification.originator_id)
            if key in chains:
                names.setdefault(chains[key])
                continue
            try:
                event = self.mapper.to_domain_event(notification)
            except Exception:  # noqa: S112 (an unreadable seal is reported by its chain)
                continue
            if isinstance(event, SealChain.Started | SealChain.Sealed):
                names.setdefault(event.application)
                if key == str(seal_chain_id(event.application)):
                    chains[key] = event.application
        return list(names)


def _kind(error: Exception) -> str:
    return f"the stored seal cannot be read ({type(error).__name__})"
