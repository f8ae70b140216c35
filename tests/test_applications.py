"""Who may apply (R1) and how (R2): consent, anonymity and under-18s, on every way in."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import CaseDriver
from tests.uploads import (
    CONSENT_FIELD,
    HTML,
    PDF,
    field_error,
    on_behalf,
    post_form,
    received_on,
)
from trigger_workflow.samples import APPLICATION
from trigger_workflow.store.models import Case, Document


def _cases(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def test_r1_on_behalf_without_consent_document_is_refused_beside_the_field(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: applying for someone with a 'signed form' but no upload is refused; no case is made."""
    response = post_form(client, "/apply", on_behalf(consent_how="signed_form"))
    assert response.status_code == 422
    message = field_error(response.text, "victim-consent_document")
    assert "Upload the victim's signed consent form" in message
    assert 'href="#victim-consent_document"' in response.text  # the error summary links to it
    assert 'value="Vera Victim"' in response.text  # what was entered is kept
    assert _cases(sessions) == 0


def test_r1_on_behalf_with_uploaded_consent_form_is_accepted_and_kept_with_the_case(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: a signed consent form uploaded with the application is kept with the new case."""
    response = post_form(
        client,
        "/apply",
        on_behalf(consent_how="signed_form"),
        files={CONSENT_FIELD: (PDF, "../../etc/consent form.pdf")},
    )
    assert response.status_code == 302, response.text
    with sessions() as session:
        case = session.scalars(select(Case)).one()
        document = session.scalars(select(Document)).one()
        assert document.case_id == case.id
        assert document.purpose == "consent_document"
        assert document.content_type == "application/pdf"
        assert document.original_name == "consent form.pdf"
        assert document.stored_name != document.original_name


def test_r1_upload_kept_when_the_rest_of_the_form_is_wrong(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: a consent form uploaded on an earlier page, when a later page has errors, is kept: the
    victim's page shows it, and the application is sent without choosing the file again."""
    data = on_behalf(consent_how="signed_form")
    data["impact"] = ""
    first = post_form(client, "/apply", data, files={CONSENT_FIELD: (PDF, "consent.pdf")})
    assert first.status_code == 422
    assert "Enter how the behaviour affects the victim" in field_error(first.text, "impact")
    victim_page = client.get("/apply/victim")
    assert "Uploaded: consent.pdf" in victim_page.text
    token = victim_page.text.split(
        'id="victim-consent_document-token" name="victim.consent_document" value="'
    )[1].split('"')[0]
    data["impact"] = "We are frightened."
    data["victim"]["consent_document"] = token
    second = post_form(client, "/apply", data)
    assert second.status_code == 302, field_error(second.text, "victim-consent_document")
    with sessions() as session:
        assert session.scalars(select(Document)).one().case_id is not None


def test_r1_public_cannot_claim_consent_recorded_by_an_officer(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: only an officer records consent given to them; the public form says to upload instead."""
    data = on_behalf(consent_how="to_officer", consent_date="2026-11-01", consent_method="phone")
    response = post_form(client, "/apply", data)
    assert response.status_code == 422
    assert "Only a council officer can record consent" in field_error(
        response.text, "victim-consent_how"
    )
    assert _cases(sessions) == 0


def test_r1_officer_records_consent_with_date_and_method(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: the coordinator records consent told to them, and must give its date and method."""
    CaseDriver(client, sessions).act_as("carol")
    missing = post_form(
        client,
        "/cases/new",
        dict(on_behalf(consent_how="to_officer"), channel="phone"),
        extra=received_on(),
    )
    assert missing.status_code == 422
    assert field_error(missing.text, "victim-consent_date") == (
        "Enter the date the victim gave consent"
    )
    assert field_error(missing.text, "victim-consent_method") == (
        "Select how the victim told the officer"
    )
    data = on_behalf(consent_how="to_officer", consent_date="2026-11-18", consent_method="phone")
    accepted = post_form(client, "/cases/new", dict(data, channel="phone"), extra=received_on())
    assert accepted.status_code == 302
    driver = CaseDriver(client, sessions)
    driver.reference = accepted.headers["Location"].rsplit("/", 1)[-1]
    victim = driver.case()["events"][1]["data"]["victim"]
    assert (victim["consent_how"], victim["consent_date"], victim["consent_method"]) == (
        "to_officer",
        "2026-11-18",
        "phone",
    )


def test_r1_consent_cannot_postdate_the_application(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: consent recorded as given after the application arrived is refused."""
    CaseDriver(client, sessions).act_as("carol")
    data = on_behalf(
        consent_how="to_officer", consent_date="2026-11-21", consent_method="in_person"
    )
    response = post_form(client, "/cases/new", dict(data, channel="letter"), extra=received_on())
    assert response.status_code == 422
    assert "on or before the date the application was received" in field_error(
        response.text, "victim-consent_date"
    )


def test_r1_anonymous_application_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: a name of only spaces is anonymous: refused beside the name, on the public form."""
    data = dict(APPLICATION, applicant=dict(APPLICATION["applicant"], name="   "))
    response = post_form(client, "/apply", data)
    assert response.status_code == 422
    assert "anonymous applications cannot be accepted" in response.text
    assert _cases(sessions) == 0


def test_r1_no_way_to_contact_is_refused_through_the_json_api(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: an application with no usable contact detail is refused by the API, by field."""
    CaseDriver(client, sessions).act_as("carol")
    applicant = dict(APPLICATION["applicant"], email="alex@example.org", phone=" ")
    applicant["preferred_contact"] = "phone"
    data = dict(APPLICATION, channel="email", applicant=applicant)
    response = client.post("/api/applications", json={"data": data, "received_on": "2026-11-20"})
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "applicant.phone", "message": "Enter your phone: we need a way to contact you"}
    ]
    assert _cases(sessions) == 0


def test_r1_under_18_applicant_needs_a_responsible_adult(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: a 15-year-old's application asks for a responsible adult, and is taken with one."""
    young = dict(APPLICATION["applicant"], date_of_birth="2011-05-01")
    response = post_form(client, "/apply", dict(APPLICATION, applicant=young))
    assert response.status_code == 422
    assert "applicants under 18 apply with one" in field_error(
        response.text, "responsible_adult-name"
    )
    assert field_error(response.text, "responsible_adult-relationship")
    assert field_error(response.text, "responsible_adult-phone")
    adult = {"name": "Pat Parent", "relationship": "Mother", "phone": "07700 900123"}
    accepted = post_form(
        client, "/apply", dict(APPLICATION, applicant=young, responsible_adult=adult)
    )
    assert accepted.status_code == 302
    assert _cases(sessions) == 1


def test_r1_adult_applicant_needs_no_responsible_adult(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1: an applicant who turned 18 before the application arrived applies alone."""
    adult = dict(APPLICATION["applicant"], date_of_birth="2008-11-23")
    response = post_form(client, "/apply", dict(APPLICATION, applicant=adult))
    assert response.status_code == 302


def test_r1_on_behalf_with_consent_through_the_json_api(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1, R2: the API takes an officer's record of consent, and refuses one without consent."""
    CaseDriver(client, sessions).act_as("carol")
    refused = client.post(
        "/api/applications",
        json={"data": dict(on_behalf(consent_how="in_writing"), channel="email")},
    )
    assert refused.status_code == 422
    assert refused.json["details"][0]["field"] == "victim.consent_document"
    data = on_behalf(consent_how="to_officer", consent_date="2026-11-19", consent_method="email")
    accepted = client.post(
        "/api/applications",
        json={"data": dict(data, channel="email"), "received_on": "2026-11-20"},
    )
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["reference"].startswith("CT-2026-")


def test_r2_the_public_cannot_use_the_applications_api(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R2: entering an application through the API is for a signed-in coordinator: a visitor is
    asked to sign in (401) and a partner officer is refused (403); no case is made."""
    assert client.post("/api/applications", json={"data": APPLICATION}).status_code == 401
    CaseDriver(client, sessions).act_as("pete")
    assert client.post("/api/applications", json={"data": APPLICATION}).status_code == 403
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_r1_html_disguised_as_pdf_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Uploads: a file named .pdf whose bytes are HTML is refused by its content, not its name."""
    response = post_form(
        client,
        "/apply",
        on_behalf(consent_how="signed_form"),
        files={CONSENT_FIELD: (HTML, "consent.pdf")},
    )
    assert response.status_code == 422
    assert field_error(response.text, "victim-consent_document") == (
        "The selected file must be a PDF, JPEG or PNG"
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
    assert _cases(sessions) == 0


def test_r3_every_question_answered_is_kept_as_sent(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R3: an application answering every question (needs, incidents, consent) is kept whole."""
    data = on_behalf(
        consent_how="signed_form",
        phone="01332 111222",
        date_of_birth="1950-02-03",
    )
    data |= {
        "needs": ["interpreter", "large_print"],
        "needs_details": "Polish interpreter",
        "vulnerabilities": "Lives alone; hearing loss.",
        "incidents": [
            dict(APPLICATION["incidents"][0], behaviour_time="23:30", action_taken="Letter sent"),
            dict(
                APPLICATION["incidents"][1],
                reported_to=["police", "other"],
                reported_to_other="Neighbourhood warden",
            ),
        ],
    }
    response = post_form(client, "/apply", data, files={CONSENT_FIELD: (PDF, "consent.pdf")})
    assert response.status_code == 302, response.text[:3000]
    with sessions() as session:
        case = session.scalars(select(Case)).one()
        token = session.scalars(select(Document.token)).one()
    driver = CaseDriver(client, sessions)
    driver.reference = case.reference
    driver.act_as("carol")
    kept = driver.case()["events"][1]["data"]
    expected = dict(data, channel="online")
    expected["victim"] = dict(data["victim"], consent_document=token)
    assert kept == expected
