"""The six SOAP providers' contracts as this project speaks them (document/literal, SOAP 1.1).

One ``SoapContract`` per provider: its namespaces, the question it is asked (built from
the subject, the period and who asks), where its answer sits in the response and how
the answer's elements map onto the wire payload its reader takes
(``adapters.providers.simulated``'s readers, keyed by the providers' own element names),
and how it reports a failure of its own. The simulators use the same contracts the other
way round (``ask``: who is asked about; ``render``: the answer as elements). The WSDL and
XSD files beside this module (``wsdl/``) describe the same messages for other clients.

Shaped after the v10 contract's schemas and example answers:

- Arbetsförmedlingen: ``FragaMeddelande`` -> ``SvarMeddelande/Svar``; its own failure is
  a ``StatusSokandeinformationKod`` other than 0 or 1.
- CSN: ``SBNUppgEkBistandBegar`` -> ``svar``, the base64 of a ``CSNSvar`` document; its own
  failure is a ``ResultatKod`` other than 0.
- Migrationsverket: ``findByPersonnummer`` -> ``response`` (unqualified elements, every
  permit: the adapter keeps those of the period); a SOAP fault with ``SSBTEKSoapException``.
- Skatteverket: ``BeskattningsuppgifterRequest/forfragan`` -> ``svar``, both strings holding
  an XML document; a SOAP fault with ``Exception`` (``MeddelandeKod``).
- The unemployment funds (SO): ``GetUnemploymentBenefitPaymentRequest`` -> ``...Response``;
  a SOAP fault with ``Felkod``.
- Transportstyrelsen: ``HamtaUppgifter`` -> ``HamtaUppgifterResponse``; ``resultat`` FEL
  with ``felresultat``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs
from lxml import etree

from adapters.providers.v10._xml import (
    Payload,
    Shape,
    fill,
    from_payload,
    local,
    parse,
    refused,
    serialise,
    to_payload,
)
from application.ports import BaseServiceReportedError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import MigrationsverketRecord, ProviderData
from domain.providers import Provider
from domain.query.values import Period

ALL_TIME: Final = Period(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
"""The period the simulators answer for when the question names none (Migrationsverket)."""


@attrs.frozen
class Asker:
    """Who asks, as the contracts' ``Ingivare`` fields want it (no personal data)."""

    organisation_number: str = "2021005521"
    organisation_name: str = "SSBTEK"
    account: str = "SSBTEK"  # KontonamnHandlaggare: the composite service, not a person
    purpose: str = "Ekonomiskt bistånd"
    legal_basis: str = "SoL 11 kap. 11 a §"


class SoapContract:
    """One provider's SOAP contract: both directions."""

    provider: ClassVar[Provider]
    path: ClassVar[str]  # its path on the simulators' port
    namespace: ClassVar[str]
    request: ClassVar[str]
    response: ClassVar[str]
    shape: ClassVar[Shape]
    question_shape: ClassVar[Shape]
    fault_key: ClassVar[str | None] = None  # the detail element of its own SOAP faults
    fault_code: ClassVar[str] = ""  # in that element: the provider's code
    fault_text: ClassVar[str] = ""  # and its text

    @property
    def action(self) -> str:
        return f"{self.namespace.rstrip('/')}/{self.request}"

    # --- the adapter's side --------------------------------------------------------

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        raise NotImplementedError

    def question_element(
        self, subject: PersonalIdentityNumber, period: Period, asker: Asker
    ) -> etree._Element:
        top = etree.Element(f"{{{self.namespace}}}{self.request}")
        return fill(top, self.question(subject, period, asker), self.question_shape)

    def answer(self, element: etree._Element) -> object:
        """The reader's payload from the response element (checked to be the response)."""
        if element.tag != f"{{{self.namespace}}}{self.response}":
            raise refused(self.provider, "an element that is not its response")
        return self._payload_of(element)

    def _payload_of(self, element: etree._Element) -> object:

        return to_payload(element, self.shape)

    def failure(
        self, detail: Mapping[str, Any], faultstring: str
    ) -> BaseServiceReportedError | None:
        """The provider's own failure from its SOAP fault's detail, if it is one."""
        fault = detail.get(self.fault_key or "")
        if isinstance(fault, Mapping) and isinstance(fault.get(self.fault_code), str):
            return BaseServiceReportedError(
                fault[self.fault_code], str(fault.get(self.fault_text, ""))
            )
        return None

    def refine(self, record: ProviderData, period: Period) -> ProviderData:
        """What the reader's record says for ``period`` (the provider may answer for more)."""
        return record

    # --- the simulator's side ------------------------------------------------------

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        raise NotImplementedError

    def render(self, payload: Payload) -> etree._Element:
        return from_payload(self.response, payload, self.shape)

    def render_failure(self, payload: Payload) -> tuple[str, etree._Element] | None:
        """``(faultstring, detail)`` when the failure payload is a SOAP fault, else None."""
        fault = payload.get(self.fault_key or "")
        if not isinstance(fault, Mapping):
            return None
        detail = etree.Element(f"{{{self.namespace}}}{self.fault_key}")
        return str(fault.get(self.fault_text, "")), fill(detail, fault, Shape(None))


def _texts(element: etree._Element) -> dict[str, str]:
    """The text of every descendant element, by local name (the first of each name)."""
    found: dict[str, str] = {}
    for child in element.iter():
        if isinstance(child.tag, str) and len(child) == 0:
            found.setdefault(local(child), (child.text or "").strip())
    return found


def _subject(provider: Provider, digits: str) -> PersonalIdentityNumber:
    try:
        return PersonalIdentityNumber.parse(digits)
    except ValueError:
        raise refused(provider, "a question about no valid subject") from None


def _period(provider: Provider, start: str, end: str) -> Period:
    try:
        return Period.of(dt.date.fromisoformat(start[:10]), dt.date.fromisoformat(end[:10]))
    except ValueError:
        raise refused(provider, "a question without a valid period") from None


# --- Arbetsförmedlingen: ersattningsstod/v2 ----------------------------------------------


class Arbetsformedlingen(SoapContract):
    provider = Provider.ARBETSFORMEDLINGEN
    path = "/af"
    namespace = "http://api.arbetsformedlingen.se/arbetssokande/ersattningsstod/v2"
    request = "FragaMeddelande"
    response = "SvarMeddelande"
    shape = Shape(
        namespace,
        repeated=frozenset({"Beslut"}),
        containers=frozenset(
            {"ArbetssokandeInfo", "AktivetetsRapportDatum", "BeslutInfo", "EkonomiskaBeslut"}
        ),
    )
    question_shape = Shape(
        namespace, attributes=frozenset({"ArbetssokandeInfo", "AkasseInfo", "BeslutInfo"})
    )

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        return {
            "Inkludera": {"ArbetssokandeInfo": True, "AkasseInfo": True, "BeslutInfo": True},
            "Fraga": {
                "OrganisationsnummerForIngivare": asker.organisation_number,
                "NamnPaIngivare": asker.organisation_name,
                "KontonamnForHandlaggare": asker.account,
                "Referensnummer": "SSBTEK",
                "From": period.start.isoformat(),
                "Tom": period.end.isoformat(),
                "SyfteMedFraga": asker.purpose,
                "LagParagraf": asker.legal_basis,
                "IdentitetsbeteckningFysiskPerson": subject.digits,
            },
        }

    def _payload_of(self, element: etree._Element) -> object:
        svar = element.find(f"{{{self.namespace}}}Svar")
        if svar is None:
            raise refused(self.provider, "a response without Svar")
        return to_payload(svar, self.shape)

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        texts = _texts(element)
        subject = _subject(self.provider, texts.get("IdentitetsbeteckningFysiskPerson", ""))
        return subject, _period(self.provider, texts.get("From", ""), texts.get("Tom", ""))

    def render(self, payload: Payload) -> etree._Element:
        echo = {
            "Fraga": {
                "IdentitetsbeteckningFysiskPerson": payload.get(
                    "IdentitetsbeteckningFysiskPerson", ""
                )
            }
        }
        return from_payload(self.response, {**echo, "Svar": payload}, self.shape)


# --- CSN: kommunfraga v4.0 -----------------------------------------------------------------

_CSN_PERSON: Final = "http://schema.csn.se/v4.0/person"
_CSN_TYPES: Final = "http://schema.csn.se/v4.0/csntyper"


class Csn(SoapContract):
    provider = Provider.CSN
    path = "/csn"
    namespace = "http://schema.csn.se/v4.0/kommunfraga"
    request = "SBNUppgEkBistandBegar"
    response = "SBNUppgEkBistandSvar"
    shape = Shape(
        namespace,
        repeated=frozenset({"Person", "Arende", "Utbetalning", "Belopp"}),
        attributes=frozenset({"schemaVersion", "personnummer", "sekel", "sekretess", "Status"}),
        containers=frozenset(
            {"Personer", "Arenden", "UtbetalningsPlan", "Beloppen", "Studiestodstypforteckning"}
        ),
        namespaces={
            **dict.fromkeys(
                (
                    "Studiestodstypforteckning",
                    "Arenden",
                    "Arende",
                    "lopnummer",
                    "stodform",
                    "klartext",
                    "status",
                    "UtbetalningsPlan",
                    "Utbetalning",
                    "utbetdatum",
                    "utbetstatus",
                    "startvecka",
                    "slutvecka",
                    "Beloppen",
                    "Belopp",
                    "beloppstyp",
                    "belopp",
                    "totbelopp",
                ),
                _CSN_PERSON,
            ),
            **dict.fromkeys(("studiemedel", "studiehjalp", "hemutrustningslan"), _CSN_TYPES),
        },
    )
    question_shape = Shape(namespace)

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        return {
            "Organisationsnummer": asker.organisation_number,
            "Handlaggare": asker.account,
            "Personnummer": subject.digits,
            "FromDatum": period.start.isoformat(),
            "TomDatum": period.end.isoformat(),
        }

    def _payload_of(self, element: etree._Element) -> object:

        svar = element.find(f"{{{self.namespace}}}svar")
        if svar is None or not svar.text:
            raise refused(self.provider, "a response without svar")
        try:
            document = base64.b64decode(svar.text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise refused(self.provider, "a svar that is not base64") from None
        inner = parse(self.provider, document)
        if inner.tag != f"{{{self.namespace}}}CSNSvar":
            raise refused(self.provider, "a svar that is not a CSNSvar")
        return to_payload(inner, self.shape)

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        texts = _texts(element)
        subject = _subject(self.provider, texts.get("Personnummer", ""))
        return subject, _period(
            self.provider, texts.get("FromDatum", ""), texts.get("TomDatum", "")
        )

    def render(self, payload: Payload) -> etree._Element:

        document = serialise(from_payload("CSNSvar", payload, self.shape))
        top = etree.Element(f"{{{self.namespace}}}{self.response}")
        etree.SubElement(top, f"{{{self.namespace}}}svar").text = base64.b64encode(
            document
        ).decode()
        return top


# --- Migrationsverket: SSBTEKWebService ----------------------------------------------------


class Migrationsverket(SoapContract):
    provider = Provider.MIGRATIONSVERKET
    path = "/miv"
    namespace = "http://schema.migrationsverket.se/ssbtek/1/"
    request = "findByPersonnummer"
    response = "findByPersonnummerResponse"
    shape = Shape(None, repeated=frozenset({"svar"}), containers=frozenset({"svarCollection"}))
    question_shape = Shape(None)
    fault_key = "SSBTEKSoapException"
    fault_code, fault_text = "faultCode", "faultString"

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        return {
            "query": {
                "personnummer": subject.digits,
                "ingivare": {
                    "handlaggare": asker.account,
                    "namn": asker.organisation_name,
                    "organisationsnummer": asker.organisation_number,
                },
            }
        }

    def _payload_of(self, element: etree._Element) -> object:
        response = element.find("response")
        if response is None:
            raise refused(self.provider, "a response without response")
        return to_payload(response, self.shape)

    def refine(self, record: ProviderData, period: Period) -> ProviderData:
        """Migrationsverket answers with every permit: keep those in force in the period
        (decided by its end, not expired or revoked before its start)."""
        if not isinstance(record, MigrationsverketRecord):
            return record
        permits = tuple(
            permit
            for permit in record.permits
            if permit.decided_on <= period.end
            and (permit.revoked_on or permit.valid_to or period.start) >= period.start
        )
        if not permits:
            return MigrationsverketRecord(protected_identity=record.protected_identity)
        return attrs.evolve(record, permits=permits)

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        return _subject(self.provider, _texts(element).get("personnummer", "")), ALL_TIME

    def render(self, payload: Payload) -> etree._Element:
        top = etree.Element(f"{{{self.namespace}}}{self.response}")
        return fill(top, {"response": payload}, self.shape)


# --- Skatteverket: ZgBsBeskattningWS ---------------------------------------------------------

_SKV_INSTANS: Final = (
    "http://xmls.skatteverket.se/se/skatteverket/zg/instans/standardiseradInformation/1.0"
)
_SKV_BESKO: Final = (
    "http://xmls.skatteverket.se/se/skatteverket/zg/komponent/infoForBeskattning/1.0"
)
_SKV_FOLKO: Final = (
    "http://xmls.skatteverket.se/se/skatteverket/zg/komponent/infoForFolkbokforing/1.0"
)
_SKV_ANSWER: Final = "SvarBeskattningsuppgifterEnligtSFS2008-975"
_SKV_QUESTION: Final = "FragaBeskattningsuppgifterEnligtSFS2008-975"


class Skatteverket(SoapContract):
    provider = Provider.SKATTEVERKET
    path = "/skv"
    namespace = "http://beskattningws.ws.service.bs.zg.rsv.se/"
    request = "BeskattningsuppgifterRequest"
    response = "BeskattningsuppgifterResponse"
    shape = Shape(
        _SKV_INSTANS,
        repeated=frozenset({"Personuppgift", "Inkomstuppgift", "Kapitaluppgift"}),
        containers=frozenset({"PersonuppgiftLista"}),
        namespaces={
            "IdentitetsbeteckningFysiskPerson": _SKV_FOLKO,
            **dict.fromkeys(
                (
                    "Taxeringsar",
                    "SammanraknadForvarvsinkomst",
                    "InkomstAvNaringsverksamhet",
                    "SlutligSkatt",
                    "SummaIntakterPaKapital",
                    "OverskottPaKapital",
                    "UnderskottPaKapital",
                ),
                _SKV_BESKO,
            ),
        },
    )
    question_shape = Shape(None)  # forfragan and svar are unqualified strings
    fault_key = "Exception"
    fault_code, fault_text = "MeddelandeKod", "MeddelandeText"

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:

        document = from_payload(
            _SKV_QUESTION,
            {
                "IdentitetsbeteckningFysiskPerson": subject.digits,
                "FromDatum": period.start.isoformat(),
                "TomDatum": period.end.isoformat(),
                "Organisationsnummer": asker.organisation_number,
            },
            Shape(_SKV_INSTANS, namespaces={"IdentitetsbeteckningFysiskPerson": _SKV_FOLKO}),
        )
        return {"forfragan": serialise(document).decode()}

    def _payload_of(self, element: etree._Element) -> object:

        svar = element.find("svar")
        if svar is None or not svar.text:
            raise refused(self.provider, "a response without svar")
        inner = parse(self.provider, svar.text.encode())
        if inner.tag != f"{{{_SKV_INSTANS}}}{_SKV_ANSWER}":
            raise refused(self.provider, "a svar that is not its answer document")
        return to_payload(inner, self.shape)

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:

        forfragan = _texts(element).get("forfragan", "")
        texts = _texts(parse(self.provider, forfragan.encode()))
        subject = _subject(self.provider, texts.get("IdentitetsbeteckningFysiskPerson", ""))
        return subject, _period(
            self.provider, texts.get("FromDatum", ""), texts.get("TomDatum", "")
        )

    def render(self, payload: Payload) -> etree._Element:

        document = serialise(from_payload(_SKV_ANSWER, payload, self.shape))
        top = etree.Element(f"{{{self.namespace}}}{self.response}")
        etree.SubElement(top, "svar").text = document.decode()
        return top


# --- The unemployment funds: UnemploymentBenefitPaymentService (INT014) ----------------------


class UnemploymentFunds(SoapContract):
    provider = Provider.UNEMPLOYMENT_FUNDS
    path = "/so"
    namespace = "http://INT014.UBPService.Schemas"
    request = "GetUnemploymentBenefitPaymentRequest"
    response = "GetUnemploymentBenefitPaymentResponse"
    shape = Shape(
        namespace,
        repeated=frozenset(
            {
                "Arbetsloshetsersattning",
                "Utbetalningar",
                "Avstangningar",
                "OrganisationsnummerPersonuppgiftsbitrade",
                "NamnPersonuppgiftsbitrade",
            }
        ),
        containers=frozenset({"ArbetsloshetsersattningLista"}),
    )
    question_shape = Shape(namespace)
    fault_key = "Felkod"

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        return {
            "OrganisationsnummerIngivare": asker.organisation_number,
            "NamnIngivare": asker.organisation_name,
            "KontonamnHandlaggare": asker.account,
            "Referensnummer": "SSBTEK",
            "From": period.start.isoformat(),
            "Tom": period.end.isoformat(),
            "Syfte": asker.purpose,
            "Paragraf": asker.legal_basis,
            "IdentificationNumber": subject.digits,
        }

    def failure(
        self, detail: Mapping[str, Any], faultstring: str
    ) -> BaseServiceReportedError | None:
        code = detail.get(self.fault_key or "")
        return BaseServiceReportedError(code, faultstring) if isinstance(code, str) else None

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        texts = _texts(element)
        subject = _subject(self.provider, texts.get("IdentificationNumber", ""))
        return subject, _period(self.provider, texts.get("From", ""), texts.get("Tom", ""))

    def render_failure(self, payload: Payload) -> tuple[str, etree._Element] | None:
        fault = payload.get("Fault")
        if not isinstance(fault, Mapping):
            return None
        detail = fault.get("detail", {})
        element = from_payload(self.fault_key or "", {}, self.shape)
        element.text = str(detail.get(self.fault_key, ""))
        return str(fault.get("faultstring", "")), element


# --- Transportstyrelsen: HamtaUppgifterResponder 1.0 ---------------------------------------

_TNS_FORDON: Final = "http://schema.transportstyrelsen.se/ssbtek/fordon/1"
_TNS_PERSON: Final = "http://schema.transportstyrelsen.se/ssbtek/person/1"


class Transportstyrelsen(SoapContract):
    provider = Provider.TRANSPORTSTYRELSEN
    path = "/tns"
    namespace = "http://schema.transportstyrelsen.se/ssbtek/hamtauppgifterresponder/1"
    request = "HamtaUppgifter"
    response = "HamtaUppgifterResponse"
    shape = Shape(
        namespace,
        repeated=frozenset({"fordon", "felresultat"}),
        containers=frozenset({"fordonsinnehav"}),
        namespaces=dict.fromkeys(
            ("fordon", "regnr", "fabrikat", "fordonsar", "fordonsslag", "handelsbeteckning"),
            _TNS_FORDON,
        ),
    )
    question_shape = Shape(
        namespace, namespaces=dict.fromkeys(("sekel", "personnummer"), _TNS_PERSON)
    )

    def question(self, subject: PersonalIdentityNumber, period: Period, asker: Asker) -> Payload:
        return {"identifikation": {"sekel": subject.digits[:2], "personnummer": subject.digits[2:]}}

    def ask(self, element: etree._Element) -> tuple[PersonalIdentityNumber, Period]:
        texts = _texts(element)
        digits = texts.get("sekel", "") + texts.get("personnummer", "")
        return _subject(self.provider, digits), ALL_TIME


CONTRACTS: Final[Mapping[Provider, SoapContract]] = {
    contract.provider: contract
    for contract in (
        Arbetsformedlingen(),
        Csn(),
        Migrationsverket(),
        Skatteverket(),
        UnemploymentFunds(),
        Transportstyrelsen(),
    )
}
