"""A contract kit for base-service adapters: prove an adapter honours the ``BaseService`` port.

Shipped with the package for anyone who writes an adapter (it needs ``pytest`` and
``pytest-asyncio``, as the project's own tests do). Subclass ``BaseServiceContract`` in a
test module, and give it a ``provider`` fixture (the providers to prove, usually
parametrised) and ``make_harness``, which returns a ``Harness``: it builds the adapter
under test and makes the provider behind it misbehave on demand (the kit starts and
closes it around each test)::

    class TestAcmeAdapter(BaseServiceContract):
        @pytest.fixture(params=[Provider.CSN])
        def provider(self, request: pytest.FixtureRequest) -> Provider:
            return request.param

        def make_harness(self, provider: Provider) -> Harness:
            return AcmeHarness(provider)  # a fake CSN on a local port, on start()

Every test of the class then runs for every provider: its answers map onto the domain's
provider data; a provider that never answers cannot keep the caller past its deadline;
cancelling a call frees its connection; each fault the harness can cause maps onto the
port's errors with the right source (BT: the provider's own error; SSBT: time-outs,
unreachable, malformed or oversized answers); and no subject's number reaches a log
record or an exception's message.

Faults (``FAULTS``), named as the wire simulators name them (``adapters.providers.v10.
simulators``): a harness offers at least ``REQUIRED_FAULTS``, and a networked one also
``NETWORK_FAULTS``.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Final

import pytest

from application.ports import (
    BaseService,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import Provider
from domain.query.values import ErrorSource, Period

FAULTS: Final[Mapping[str, tuple[type[BaseException], ErrorSource]]] = {
    "hang": (TimeoutError, ErrorSource.SSBT),  # never answers: the caller's deadline ends it
    "reset": (BaseServiceUnreachableError, ErrorSource.SSBT),  # connection reset
    "unreachable": (BaseServiceUnreachableError, ErrorSource.SSBT),  # nobody there
    "http500": (
        BaseServiceReportedError,
        ErrorSource.BT,
    ),  # an HTTP error without the contract's fault
    "soap_fault": (BaseServiceReportedError, ErrorSource.BT),  # the protocol's fault
    "error": (
        BaseServiceReportedError,
        ErrorSource.BT,
    ),  # the provider's own error, as it reports it
    "malformed": (MalformedAnswerError, ErrorSource.SSBT),  # not the provider's answer
    "oversized": (MalformedAnswerError, ErrorSource.SSBT),  # more than the adapter reads
}
REQUIRED_FAULTS: Final = frozenset({"hang", "error", "malformed"})
NETWORK_FAULTS: Final = frozenset({"reset", "oversized"})
DEADLINE: Final = 0.5  # seconds the kit's caller waits for a provider that hangs
GRACE: Final = 5.0  # how much later than the deadline the call may end (a loaded machine)
SETTLE: Final = 10.0  # how long the kit waits for a connection to open or close
PERIOD: Final = Period.of(dt.date(2025, 1, 1), dt.date(2026, 10, 31))
SUBJECTS: Final = tuple(  # Tolvan Tolvansson, then test numbers (serial 980-999), never real people
    PersonalIdentityNumber.parse(number)
    for number in (
        "19121212-1212",
        "19650917-9823",
        "19480214-9817",
        "19851203-9846",
        "20010630-9867",
        "19950367-9830",  # a samordningsnummer
        "19580101-9877",
        "19730808-9858",
    )
)


def source_of(error: BaseException) -> ErrorSource:
    """Who is to blame for a failed call, as the saga records it."""
    return ErrorSource.BT if isinstance(error, BaseServiceReportedError) else ErrorSource.SSBT


class Harness(abc.ABC):
    """One adapter under test for one provider, and a provider that misbehaves on demand."""

    provider: Provider
    faults: frozenset[str]  # which of ``FAULTS`` this harness can cause
    networked: bool = True  # whether the adapter talks over a network

    @abc.abstractmethod
    async def service(self, fault: str | None = None) -> BaseService:
        """The adapter, with its provider behaving as ``fault`` says (None: normally)."""

    @abc.abstractmethod
    def expected(self, subject: PersonalIdentityNumber, period: Period) -> ProviderData:
        """What the provider holds about ``subject`` for ``period``: the adapter must say it."""

    def open_connections(self) -> int | None:
        """Connections the provider's side holds open now (None: not networked)."""
        return None

    async def start(self) -> None:  # noqa: B027 (optional: nothing to start by default)
        """Start the provider's side."""

    async def close(self) -> None:  # noqa: B027 (optional: nothing to close by default)
        """Close every adapter made and stop the provider's side."""


async def _call(service: BaseService, subject: PersonalIdentityNumber) -> BaseException | None:
    try:
        async with asyncio.timeout(DEADLINE):
            await service.fetch(subject, PERIOD)
    except Exception as error:  # the kit judges every failure
        return error
    return None


def _texts_of(error: BaseException) -> Iterable[str]:
    seen: BaseException | None = error
    while seen is not None:
        yield str(seen)
        yield repr(seen)
        yield from (str(arg) for arg in seen.args)
        if isinstance(seen, BaseServiceReportedError):
            yield seen.code
            yield seen.message
        seen = seen.__cause__ or seen.__context__


def _forms(subject: PersonalIdentityNumber) -> list[str]:
    digits = subject.digits
    return [digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"]


async def _eventually(condition: object, seconds: float = SETTLE) -> bool:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while not condition():
        if loop.time() > until:
            return False
        await asyncio.sleep(0.02)
    return True


class BaseServiceContract:
    """The port's promises, as tests. Subclass it; give ``provider`` and ``make_harness``."""

    @pytest.fixture
    def provider(self) -> Provider:
        raise NotImplementedError("give the contract a `provider` fixture")

    def make_harness(self, provider: Provider) -> Harness:
        raise NotImplementedError("give the contract a `make_harness` method")

    @pytest.fixture
    async def harness(self, provider: Provider) -> AsyncIterator[Harness]:
        made = self.make_harness(provider)
        await made.start()
        try:
            yield made
        finally:
            await made.close()

    def test_the_harness_can_cause_the_faults_the_kit_needs(self, harness: Harness) -> None:
        needed = REQUIRED_FAULTS | (NETWORK_FAULTS if harness.networked else frozenset())
        assert needed <= harness.faults, sorted(needed - harness.faults)
        assert harness.faults <= set(FAULTS), sorted(harness.faults - set(FAULTS))

    async def test_answers_map_onto_the_provider_data(self, harness: Harness) -> None:
        service = await harness.service()
        assert service.provider is harness.provider
        for subject in SUBJECTS:
            answer = await service.fetch(subject, PERIOD)
            assert answer.provider is harness.provider
            assert answer.subject == subject
            assert answer.record == harness.expected(subject, PERIOD)

    async def test_the_check_reaches_the_base_service(self, harness: Harness) -> None:
        health = await (await harness.service()).check()
        assert health.provider is harness.provider
        assert health.reachable, health.detail

    async def test_the_deadline_is_kept_when_the_provider_hangs(self, harness: Harness) -> None:
        service = await harness.service("hang")
        loop = asyncio.get_running_loop()
        started = loop.time()
        error = await asyncio.wait_for(_call(service, SUBJECTS[0]), DEADLINE + GRACE)
        assert isinstance(error, TimeoutError), type(error)
        assert loop.time() - started < DEADLINE + GRACE

    async def test_cancelling_a_call_frees_its_connection(self, harness: Harness) -> None:
        service = await harness.service("hang")
        baseline = harness.open_connections()
        tasks_before = len(asyncio.all_tasks())
        call = asyncio.create_task(service.fetch(SUBJECTS[0], PERIOD))
        if baseline is not None:
            opened = await _eventually(lambda: (harness.open_connections() or 0) > baseline)
            assert opened, "the call never reached the provider"
        else:
            await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        if baseline is not None:
            freed = await _eventually(lambda: harness.open_connections() == baseline)
            assert freed, "the cancelled call's connection is still open"
        assert await _eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)

    async def test_every_fault_maps_onto_the_port_s_errors(self, harness: Harness) -> None:
        for fault in sorted(harness.faults):
            error = await _call(await harness.service(fault), SUBJECTS[0])
            kind, source = FAULTS[fault]
            assert isinstance(error, kind), (fault, type(error))
            assert source_of(error) is source, fault

    async def test_oversized_and_malformed_answers_are_refused(self, harness: Harness) -> None:
        for fault in sorted(harness.faults & {"malformed", "oversized"}):
            error = await _call(await harness.service(fault), SUBJECTS[1])
            assert isinstance(error, MalformedAnswerError), (fault, type(error))

    async def test_nothing_personal_reaches_a_log_or_an_exception_message(
        self, harness: Harness, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        subject = SUBJECTS[2]
        texts: list[str] = []
        answer = await (await harness.service()).fetch(subject, PERIOD)
        texts += [repr(answer), repr(answer.record), str(answer.record)]
        for fault in sorted(harness.faults):
            error = await _call(await harness.service(fault), subject)
            assert error is not None, fault
            texts += list(_texts_of(error))
        for record in caplog.records:
            texts += [record.getMessage(), repr(record.args), str(record.exc_text or "")]
        for form in _forms(subject):
            leaked = [text for text in texts if form in text]
            assert not leaked, f"the subject's number appears in {len(leaked)} text(s)"
