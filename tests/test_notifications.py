"""Short notifications through the outbox: the applicant's stage messages, officers' task emails.

The applicant's messages follow a real case through the real diagrams (R5 received, R13
threshold decided, R16 review held, R17 outcome, R19 appeal decided); officers are emailed when
a coordinator gives them a task and when a step is overdue (R5 escalation), and can switch it off.
"""

from __future__ import annotations

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ACTORS, ServiceCase
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver
from tests.smtp import smtp_server
from tests.test_case_paths import review, start_case
from tests.test_rules_deadlines import london
from trigger_workflow.samples import APPEAL, APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.mail import notifications, outbox
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import claims
from trigger_workflow.store.models import Case, Officer, OutboxMessage

CONFIRMED = {
    "appeal_decision": "confirmed",
    "appeal_findings": "The review was done as the law asks.",
    "enforcement_tool_only": False,
}
SERVICE = "https://asb.example.gov.uk"


def _notifications(sessions: sessionmaker[Session], purpose: str) -> list[OutboxMessage]:
    with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.purpose == purpose)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def _set_email(sessions: sessionmaker[Session], username: str, email: str, on: bool = True) -> None:
    with sessions() as session:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        assert officer is not None
        officer.email, officer.task_emails = email, on
        session.commit()


def test_r5_r13_r17_r19_applicant_gets_a_short_email_at_each_stage_with_nothing_personal_in_its_subject(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Through a real case (public form, officers' task pages): received, threshold decided,
    review held, outcome and appeal decided each queue one short email to the address the
    applicant chose; each subject is the same fixed words, and the email says no name."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    case.complete("Record appeal", APPEAL)
    case.complete("Decide appeal", CONFIRMED)
    assert case.case()["status"] == "closed"

    stages = _notifications(sessions, "stage")
    expected = ["received", "threshold_decided", "review_held", "outcome", "appeal_decided"]
    assert [m.body.split("\n")[0] for m in stages if m.body] == [
        notifications.STAGE_MESSAGES[s].format(reference=case.reference) for s in expected
    ]
    assert {(m.channel, m.recipient_email) for m in stages} == {("email", "alex@example.org")}
    with smtp_server() as (mailbox, port):
        server = outbox.MailServer("127.0.0.1", port, "asb@council.example", timeout=10)
        outbox.send_due(sessions, server)
    sent = [m for m in mailbox.messages if m["Subject"] == notifications.APPLICANT_SUBJECT]
    assert len(sent) == 5
    name = APPLICATION["applicant"]["name"]
    for email in sent:
        assert name not in email["Subject"] and case.reference not in email["Subject"]
        assert name not in email.get_content()
        assert email["To"] == "alex@example.org"


def test_applicants_who_chose_post_or_phone_without_notify_get_no_short_messages(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Post: the formal letters alone, as before. Phone: a text needs GOV.UK Notify, which this
    service has not set up, so nothing is queued (the letters still go by post)."""
    for contact in (
        {"preferred_contact": "post"},
        {"preferred_contact": "phone", "phone": "07700 900123"},
    ):
        applicant = {**APPLICATION["applicant"], **contact}
        ServiceCase(sessions).apply(data={**APPLICATION, "applicant": applicant})
    assert _notifications(sessions, "stage") == []


def test_applicant_who_chose_phone_gets_a_text_when_notify_is_set_up(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """With GOV.UK Notify (texts possible), the received message is a text to their number."""
    notifications.configure(sessions, notifications.Options(texts=True))
    applicant = {**APPLICATION["applicant"], "preferred_contact": "phone", "phone": "07700 900123"}
    ServiceCase(sessions).apply(data={**APPLICATION, "applicant": applicant})
    [text] = _notifications(sessions, "stage")
    assert (text.channel, text.recipient_phone, text.recipient_email) == (
        "sms",
        "07700 900123",
        None,
    )


def _police_task(sessions: sessionmaker[Session]) -> tuple[ServiceCase, str]:
    notifications.configure(sessions, notifications.Options(base_url=SERVICE))
    case = ServiceCase(sessions)
    case.apply()
    for spec in ("acknowledge_application", "record_complaints", "decide_threshold"):
        case.complete(spec, THRESHOLD_MET if spec == "decide_threshold" else None)
    case.complete("choose_agencies", ANSWERS["Choose agencies"])
    return case, case.task("answer_information_request", "police").id


def _reassign(sessions: sessionmaker[Session], task_id: str, to: str, holder: str | None) -> None:
    with sessions() as session:
        claims.reassign(session, claims.ReassignTask(task_id, ACTORS["carol"], to, holder))


def test_officer_is_emailed_a_link_when_a_coordinator_gives_them_a_task_unless_switched_off(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """A reassignment emails the new holder a link to the task (subject without the case);
    an officer who switched the emails off, or who claims a task themselves, gets none."""
    case, task_id = _police_task(sessions)
    with sessions() as session:
        actors.add_officer(session, "paula", "Paula Police", "partner", "police")
    _set_email(sessions, "pete", "pete@police.example")
    _set_email(sessions, "paula", "paula@police.example", on=False)

    _reassign(sessions, task_id, "paula", None)
    assert _notifications(sessions, "task") == []
    _reassign(sessions, task_id, "pete", "paula")
    [email] = _notifications(sessions, "task")
    assert (email.recipient_email, email.subject) == (
        "pete@police.example",
        notifications.TASK_SUBJECT,
    )
    assert email.body is not None and f"{SERVICE}/tasks/{task_id}" in email.body
    assert f"{SERVICE}/account/notifications" in email.body
    assert case.reference not in (email.subject or "")

    with sessions() as session:
        claims.release(session, claims.ReleaseTask(task_id, ACTORS["pete"]))
        claims.claim(session, claims.ClaimTask(task_id, ACTORS["pete"]))
    assert len(_notifications(sessions, "task")) == 1


def test_r5_an_overdue_step_emails_the_coordinators_who_want_it(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5: when the acknowledgement is overdue, the escalation emails each coordinator with an
    address and the emails on, with a link to the escalation task; not the others."""
    notifications.configure(sessions, notifications.Options(base_url=SERVICE))
    with sessions() as session:
        actors.add_officer(session, "zed", "Zed Spare", "coordinator", "council")
        actors.add_officer(session, "yan", "Yan Quiet", "coordinator", "council")
    _set_email(sessions, "carol", "carol@council.example")
    _set_email(sessions, "yan", "yan@council.example", on=False)
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        case.apply()
    with time_machine.travel(london(2026, 1, 3, 0, 1), tick=False):
        assert case.fire_timers() == 1
    escalation = case.task("handle_escalation")
    [email] = _notifications(sessions, "escalation")
    assert email.recipient_email == "carol@council.example"
    assert email.subject == notifications.ESCALATION_SUBJECT
    assert email.body is not None and f"{SERVICE}/tasks/{escalation.id}" in email.body
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == case.reference))
    assert email.case_id == case_id


def test_officer_switches_task_emails_off_and_on_on_their_own_settings_page(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The settings page keeps the officer's address and choice; a bad address, or emails on
    with no address, is refused with a clear message and changes nothing."""
    CaseDriver(client, sessions).act_as("pete")
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "Your notification settings" in page.text

    saved = client.post(
        "/account/notifications", data={"email": "pete@police.example", "task_emails": "yes"}
    )
    assert saved.status_code == 302
    assert "have been saved" in client.get(saved.headers["Location"]).text
    bad = client.post(
        "/account/notifications", data={"email": "not an address", "task_emails": "yes"}
    )
    assert bad.status_code == 422 and "Enter an email address that works" in bad.text
    empty = client.post("/account/notifications", data={"email": "", "task_emails": "yes"})
    assert empty.status_code == 422 and "switch the emails off" in empty.text
    with sessions() as session:
        pete = session.scalar(select(Officer).where(Officer.username == "pete"))
        assert pete is not None and (pete.email, pete.task_emails) == ("pete@police.example", True)

    off = client.post(
        "/account/notifications", data={"email": "pete@police.example", "task_emails": "no"}
    )
    assert off.status_code == 302
    with sessions() as session:
        pete = session.scalar(select(Officer).where(Officer.username == "pete"))
        assert pete is not None and pete.task_emails is False
