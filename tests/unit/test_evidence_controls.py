"""The control tables (aigov/data/controls.yaml): every ISO/IEC 42001 Annex A control with
its real id and title, the EU AI Act articles the design names, and reason codes that exist."""

from __future__ import annotations

import pytest

from aigov.api.constants import Reason
from aigov.evidencepack import controls

ANNEX_A = {
    "A.2.2": "AI policy",
    "A.2.3": "Alignment with other organizational policies",
    "A.2.4": "Review of the AI policy",
    "A.3.2": "AI roles and responsibilities",
    "A.3.3": "Reporting of concerns",
    "A.4.2": "Resource documentation",
    "A.4.3": "Data resources",
    "A.4.4": "Tooling resources",
    "A.4.5": "System and computing resources",
    "A.4.6": "Human resources",
    "A.5.2": "AI system impact assessment process",
    "A.5.3": "Documentation of AI system impact assessments",
    "A.5.4": "Assessing AI system impact on individuals or groups of individuals",
    "A.5.5": "Assessing societal impacts of AI systems",
    "A.6.1.2": "Objectives for responsible development of AI system",
    "A.6.1.3": "Processes for responsible AI system design and development",
    "A.6.2.2": "AI system requirements and specification",
    "A.6.2.3": "Documentation of AI system design and development",
    "A.6.2.4": "AI system verification and validation",
    "A.6.2.5": "AI system deployment",
    "A.6.2.6": "AI system operation and monitoring",
    "A.6.2.7": "AI system technical documentation",
    "A.6.2.8": "AI system recording of event logs",
    "A.7.2": "Data for development and enhancement of AI system",
    "A.7.3": "Acquisition of data",
    "A.7.4": "Quality of data for AI systems",
    "A.7.5": "Data provenance",
    "A.7.6": "Data preparation",
    "A.8.2": "System documentation and information for users",
    "A.8.3": "External reporting",
    "A.8.4": "Communication of incidents",
    "A.8.5": "Information for interested parties",
    "A.9.2": "Processes for responsible use of AI systems",
    "A.9.3": "Objectives for responsible use of AI system",
    "A.9.4": "Intended use of the AI system",
    "A.10.2": "Allocating responsibilities",
    "A.10.3": "Suppliers",
    "A.10.4": "Customers",
}
ARTICLES = ["Art. 9", "Art. 10", "Art. 11", "Art. 12", "Art. 13", "Art. 14", "Art. 15",
            "Art. 19", "Art. 26", "Art. 72"]  # fmt: skip


def _framework(key: str) -> controls.Framework:
    return next(f for f in controls.frameworks() if f.key == key)


def test_iso_table_lists_the_38_annex_a_controls_in_order() -> None:
    iso = _framework("iso42001")
    assert len(ANNEX_A) == controls.ISO_CONTROLS == 38
    assert {c.id: c.title for c in iso.controls} == ANNEX_A
    assert [c.id for c in iso.controls] == list(ANNEX_A)


def test_eu_ai_act_table_lists_the_articles_the_design_names() -> None:
    assert [c.id for c in _framework("euaiact").controls] == ARTICLES


def test_every_control_says_who_makes_it_hold_and_where_its_evidence_lives() -> None:
    for framework in controls.frameworks():
        for control in framework.controls:
            assert control.coverage in set(controls.Coverage)
            assert len(control.evidence) > 20, control.id
            assert set(control.reasons) <= {r.value for r in Reason}, control.id


def test_a_refusal_evidences_the_controls_that_name_its_reason() -> None:
    assert "A.7.5" in controls.evidenced_by("LineageIncomplete")
    assert "Art. 10" in controls.evidenced_by("LineageIncomplete")
    assert "A.3.2" in controls.evidenced_by("SeparationOfDuties")
    assert controls.evidenced_by("NoSuchReason") == ()
    assert "A.6.2.6" in controls.evidenced_by_event("Flagged")
    assert "Art. 14" in controls.evidenced_by_event("Revoked")


def test_a_table_missing_a_control_is_a_packaging_error() -> None:
    iso = {"name": "x", "controls": [{"id": "A.2.2", "title": "t", "coverage": "human",
                                      "evidence": "e"}]}  # fmt: skip
    with pytest.raises(controls.ControlsError, match="all 38"):
        controls.parse({"iso42001": iso})
    bad = {"name": "x", "controls": [{"id": "A.2.2", "title": "t", "coverage": "maybe",
                                      "evidence": "e"}]}  # fmt: skip
    with pytest.raises(controls.ControlsError, match=r"iso42001.controls\[0\]"):
        controls.parse({"iso42001": bad})
