"""The request every rung receives: one ``SubmitQueryRequest``, built here and nowhere else.

Subjects are synthetic personnummer with valid check digits, spread over birth years so
the simulated providers hold data on some and not on others. No ``client_request_id``
is set: the service then gives every query a random id, so repeating the same bytes is
never refused as a duplicate.

The asking organisation is the demo municipality (212000-0142, caseworker HL000001)
that ``ssbtek serve`` connects in development mode, so the access policy admits it.
All load therefore comes from one organisation, and the servers run with the
per-organisation rate limit off (``SSBTEK_RATE_LIMIT=``, see ``bench.servers``).
"""

from __future__ import annotations

from typing import Final

from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb

SUBMIT_QUERY_METHOD: Final = "/ssbtek.v1.QueryService/SubmitQuery"
ORGANISATION: Final = "212000-0142"
CASEWORKER: Final = "HL000001"
CASE: Final = "EKB-2026-0001"
PERIOD: Final = ((2026, 5, 1), (2026, 10, 31))
MAX_SUBJECTS: Final = 10

_BIRTH_DATES: Final = (
    "19121212",
    "19580314",
    "19640702",
    "19711125",
    "19800229",
    "19860917",
    "19930401",
    "19990623",
    "20011208",
    "20050530",
)


def luhn_check_digit(nine_digits: str) -> int:
    """The check digit of a personnummer's ``YYMMDDNNN``."""
    total = 0
    for position, character in enumerate(nine_digits):
        value = int(character) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def subject(index: int) -> str:
    """The ``index``-th synthetic subject (``YYYYMMDD-NNNC``), 0 to 9."""
    birth = _BIRTH_DATES[index % len(_BIRTH_DATES)]
    serial = f"{121 + 7 * index:03d}"
    check = luhn_check_digit(birth[2:] + serial)
    return f"{birth}-{serial}{check}"


def _date(parts: tuple[int, int, int]) -> Date:
    year, month, day = parts
    return Date(year=year, month=month, day=day)


def submit_query_request(
    subject_count: int = 1, organisation: str = ORGANISATION
) -> pb.SubmitQueryRequest:
    """The benchmark query about ``subject_count`` subjects (1 to 10), all eight providers,
    asked by ``organisation`` (the demo municipality unless told otherwise)."""
    if not 1 <= subject_count <= MAX_SUBJECTS:
        raise ValueError(f"a query covers 1 to {MAX_SUBJECTS} subjects")
    start, end = PERIOD
    return pb.SubmitQueryRequest(
        asking_organisation=pb.AskingOrganisation(
            organisation_number=organisation, name="Demo kommun"
        ),
        caseworker_id=CASEWORKER,
        case_id=CASE,
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(start=_date(start), end=_date(end)),
        subjects=[subject(index) for index in range(subject_count)],
    )


def organisations(count: int) -> tuple[str, ...]:
    """``count`` valid organisation numbers for the benchmark's municipalities (212000-1xxC),
    none of them the demo one."""
    numbers = []
    for serial in range(100, 100 + count):
        nine = f"212000{serial:03d}"
        numbers.append(f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}")
    return tuple(numbers)


def request_bytes(organisation: str = ORGANISATION) -> dict[int, bytes]:
    """The serialised request for every subject count, sent as raw bytes by the client."""
    return {
        count: submit_query_request(count, organisation).SerializeToString()
        for count in range(1, MAX_SUBJECTS + 1)
    }


_SSBT: Final = "http://schema.forsakringskassan.se/integration/ssbt/10"
_EXT: Final = "http://schema.ssbtek-core.se/v10/tillagg/1"
_BLOCKS: Final = ("AF", "CSN", "FK", "SKV", "SO", "TNS", "MIV")


def soap_envelope(subject_count: int = 1) -> bytes:
    """The same query as ``submit_query_request`` in SSBTEK v10 SOAP: every block included
    (v10's FK block asks Försäkringskassan and Pensionsmyndigheten: eight providers), the
    subjects after the first in the extension header (ADR 19)."""
    request = submit_query_request(subject_count)
    (start, end) = (f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in PERIOD)
    digits = [s.replace("-", "") for s in request.subjects]
    extra = "".join(f"<e:personidentitet>{d}</e:personidentitet>" for d in digits[1:])
    header = f"<e:ytterligarePersoner>{extra}</e:ytterligarePersoner>" if extra else ""
    blocks = "".join(f'<q:{tag} inkludera="true"/>' for tag in _BLOCKS)
    return (
        f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:q="{_SSBT}" '
        f'xmlns:e="{_EXT}"><s:Header>{header}</s:Header><s:Body><q:hamtaBastjanstInformation>'
        "<q:generellaFrageparametrar>"
        "<q:fraganSkallInkluderasISvaret>false</q:fraganSkallInkluderasISvaret>"
        f"<q:ingivare><q:organisationsnummer>16{ORGANISATION.replace('-', '')}"
        "</q:organisationsnummer><q:namn>Demo kommun</q:namn>"
        f"<q:handlaggare>{CASEWORKER}</q:handlaggare></q:ingivare>"
        f"<q:personidentitet>{digits[0]}</q:personidentitet>"
        f"<q:arendeidentitet>{CASE}</q:arendeidentitet>"
        f"<q:tidsperiod><q:fromDatum>{start}</q:fromDatum><q:tomDatum>{end}</q:tomDatum>"
        "</q:tidsperiod><q:syfte>Beslut om eller kontroll av ekonomiskt bistånd</q:syfte>"
        "<q:lagtext>11 kap. 11 § socialtjänstlagen (2001:453)</q:lagtext>"
        f"</q:generellaFrageparametrar><q:specifikaFrageparametrar>{blocks}"
        "</q:specifikaFrageparametrar></q:hamtaBastjanstInformation></s:Body></s:Envelope>"
    ).encode()


def soap_envelopes() -> dict[int, bytes]:
    """The SOAP request for every subject count, sent as raw bytes by the client."""
    return {count: soap_envelope(count) for count in range(1, MAX_SUBJECTS + 1)}
