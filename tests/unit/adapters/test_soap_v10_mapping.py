"""v10's free text and element paths onto the saga's codes and field names (ADR 19)."""

from __future__ import annotations

import pytest

from adapters.soap.contract import ContractViolation, parse_request
from adapters.soap.request import UNRECOGNISED, legal_basis_code, purpose_code, v10_query


@pytest.mark.parametrize(
    ("syfte", "code"),
    [
        ("Beslut om eller kontroll av Ekonomisk försörjningsstöd", "FINANCIAL_ASSISTANCE_CASE"),
        ("Handläggning av ärende om ekonomiskt bistånd", "FINANCIAL_ASSISTANCE_CASE"),
        ("  EKONOMISKT   BISTÅND  ", "FINANCIAL_ASSISTANCE_CASE"),
        ("FINANCIAL_ASSISTANCE_CASE", "FINANCIAL_ASSISTANCE_CASE"),
        ("Förberedelse inför ansökan om ekonomiskt bistånd", "APPLICATION_PREPARATION"),
        ("APPLICATION_PREPARATION", "APPLICATION_PREPARATION"),
        ("Kontroll", UNRECOGNISED),
        ("Ekonomisk kontroll", UNRECOGNISED),
        ("", UNRECOGNISED),
    ],
)
def test_syfte_maps_to_a_purpose_or_to_nothing(syfte: str, code: str) -> None:
    assert purpose_code(syfte) == code


@pytest.mark.parametrize(
    ("lagtext", "code"),
    [
        (
            "11 kap. 11 a § socialtjänstlagen (2001:453), 5 § förordning (2008:975) om "
            "uppgiftsskyldighet i vissa fall enligt socialtjänstlagen.",
            "SOL_11_KAP_11",
        ),
        ("SoL 11 kap 11 §", "SOL_11_KAP_11"),
        ("5 § förordning (2008:975)", "FORORDNING_2008_975"),
        ("FORORDNING_2008_975", "FORORDNING_2008_975"),
        ("Offentlighets- och sekretesslagen", UNRECOGNISED),
        ("11 kap. 11 §", UNRECOGNISED),  # which law?
    ],
)
def test_lagtext_maps_to_a_legal_basis_or_to_nothing(lagtext: str, code: str) -> None:
    assert legal_basis_code(lagtext) == code


def _request(specific: str, header: str = "") -> bytes:
    ssbt = "http://schema.forsakringskassan.se/integration/ssbt/10"
    return f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:q="{ssbt}"
        xmlns:e="http://schema.ssbtek-core.se/v10/tillagg/1"><s:Header>{header}</s:Header>
      <s:Body><q:hamtaBastjanstInformation><q:generellaFrageparametrar>
        <q:fraganSkallInkluderasISvaret>false</q:fraganSkallInkluderasISvaret>
        <q:ingivare><q:organisationsnummer>162120000142</q:organisationsnummer>
          <q:namn>Demo kommun</q:namn><q:handlaggare>system</q:handlaggare></q:ingivare>
        <q:personidentitet>191212121212</q:personidentitet>
        <q:arendeidentitet>EKB-1</q:arendeidentitet>
        <q:tidsperiod><q:fromDatum>2026-01-01</q:fromDatum><q:tomDatum>2026-06-30</q:tomDatum>
        </q:tidsperiod><q:syfte>ekonomiskt bistånd</q:syfte><q:lagtext>2008:975</q:lagtext>
      </q:generellaFrageparametrar><q:specifikaFrageparametrar>{specific}
      </q:specifikaFrageparametrar></q:hamtaBastjanstInformation></s:Body></s:Envelope>""".encode()


ALL = "".join(
    f'<q:{tag} inkludera="{str(tag in ("CSN", "FK")).lower()}"/>'
    for tag in ("AF", "CSN", "FK", "SKV", "SO", "TNS", "MIV")
)


def test_fk_covers_both_lefi_providers_and_violations_name_v10_elements() -> None:
    query = v10_query(parse_request(_request(ALL)), authenticated_organisation=None)
    assert [s.provider for s in query.command.providers] == [
        "CSN",
        "FORSAKRINGSKASSAN",
        "PENSIONSMYNDIGHETEN",
    ]
    assert query.blocks == ("CSN", "FK")
    assert query.command.organisation_number == "162120000142"
    assert query.command.purpose == "FINANCIAL_ASSISTANCE_CASE"
    assert (
        query.field_name("providers[2].period.end")
        == "specifikaFrageparametrar.FK.tidsperiod.tomDatum"
    )
    assert query.field_name("subjects[0]") == "generellaFrageparametrar.personidentitet"
    assert query.field_name("case_id") == "generellaFrageparametrar.arendeidentitet"
    assert query.field_name("caseworker_id") == "generellaFrageparametrar.ingivare.handlaggare"


def test_extra_subjects_come_from_the_extension_header_and_are_named_there() -> None:
    header = (
        "<e:ytterligarePersoner><e:personidentitet>201212121212</e:personidentitet>"
        "</e:ytterligarePersoner>"
    )
    query = v10_query(parse_request(_request(ALL, header)), authenticated_organisation=None)
    assert query.command.subjects == ("191212121212", "201212121212")
    assert query.field_name("subjects[1]") == "Header.ytterligarePersoner.personidentitet[0]"


def test_an_unknown_header_marked_must_understand_is_refused_others_are_ignored() -> None:
    ignored = '<x:trace xmlns:x="urn:x">1</x:trace>'
    assert parse_request(_request(ALL, ignored)).operation == "hamtaBastjanstInformation"
    must = '<x:trace xmlns:x="urn:x" s:mustUnderstand="1">1</x:trace>'
    with pytest.raises(ContractViolation) as refused:
        parse_request(_request(ALL, must))
    assert refused.value.code == "MUST_UNDERSTAND"


def test_an_element_name_the_contract_does_not_know_is_never_echoed() -> None:
    body = _request(ALL).replace(b"<q:arendeidentitet>EKB-1</q:arendeidentitet>", b"<q:Tolvan/>")
    with pytest.raises(ContractViolation) as refused:
        parse_request(body)
    assert refused.value.messages == [
        "generellaFrageparametrar.* has a missing, unexpected or misplaced child element"
    ]
