"""Authorities as data (issue 12): their details and local settings, the migration that makes one
from a single council's settings, references counted per authority, postcodes, the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests import old_schema
from tests.authorities_helpers import CHESTERFIELD, two_authorities
from tests.old_schema import FIRST_VERSION, empty_database
from trigger_workflow.cli import main
from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors, authorities
from trigger_workflow.services.applications import postcodes
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store import db
from trigger_workflow.store.models import Authority, AuthorityCounter, Case, Officer

PG_URL = os.environ.get("TRIGGER_WORKFLOW_TEST_DATABASE_URL", "")


def _details(**changes: object) -> authorities.AuthorityDetails:
    return authorities.AuthorityDetails(**{**vars(CHESTERFIELD), **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold_number": 4}, "the Act allows no more than 3"),
        ({"threshold_number": 0}, "between 1 and 3 complaints"),
        ({"threshold_window_months": 7}, "the Act allows no more than 6"),
        ({"reference_prefix": "chf"}, "reference prefix is 1 to 8 capital letters"),
        ({"code": "Chester Field"}, "short name is 1 to 40 lower-case letters"),
        ({"name": " "}, "Enter the authority's name"),
        ({"timescales": {"decide_threshold": 0}}, "decide threshold must be 1 to 60"),
        ({"agencies": ["police", "fire"]}, "Unknown agency 'fire'"),
        ({"process_version": 99}, "There is no process version 99"),
    ],
)
def test_r6_r8_an_authority_is_refused_with_a_clear_reason_and_nothing_is_saved(
    session: Session, changes: dict[str, object], message: str
) -> None:
    """R6/R8: a local threshold never above the Act's maximum (3 complaints, 6 months); bad
    details are refused in words, and no authority is added."""
    before = session.scalar(select(Authority.id).order_by(Authority.id.desc()).limit(1))
    with pytest.raises(TriggerWorkflowError, match=message):
        authorities.save(session, _details(**changes))
    session.rollback()
    assert session.scalar(select(Authority.id).order_by(Authority.id.desc()).limit(1)) == before


def test_an_authority_keeps_its_local_settings_or_follows_the_county(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Local threshold, timescales, agencies and process version are kept; blank follows."""
    saved = authorities.save(
        session,
        _details(
            threshold_number=2,
            threshold_window_months=3,
            timescales={"decide_threshold": 7},
            agencies=["police", "council"],
            process_version=deployed.version.number,
            retention_years=10,
        ),
    )
    summary = authorities.settings_summary(saved)
    assert summary["Retention"] == "10 years after a case closes"  # issue 13
    assert summary["Threshold"] == "2 complaints"
    assert summary["Threshold window"] == "3 months"
    assert summary["Timescales"] == "decide threshold: 7 working days"
    assert summary["Agencies taking part"] == "Council ASB team, Police"
    assert saved.process_version_id == deployed.version.id
    following = authorities.settings_summary(authorities.default_authority(session))
    assert set(following.values()) == {"Follow the county", "Every agency"}


@pytest.mark.parametrize("years", [0, 101])
def test_retention_is_1_to_100_years(session: Session, years: int) -> None:
    """Issue 13: an authority keeps closed cases 1 to 100 years, or follows the default."""
    with pytest.raises(TriggerWorkflowError, match="kept 1 to 100 years"):
        authorities.save(session, _details(retention_years=years))


def test_reference_prefixes_and_short_names_are_unique(session: Session) -> None:
    """Two authorities may not share a prefix (their references would clash) or a short name."""
    authorities.save(session, CHESTERFIELD)
    with pytest.raises(TriggerWorkflowError, match="already uses the reference prefix CHF"):
        authorities.save(session, _details(code="other"))
    session.rollback()
    with pytest.raises(TriggerWorkflowError, match="already an authority 'chesterfield'"):
        authorities.save(session, _details(reference_prefix="OTH"))


@pytest.mark.today("2026-11-10")
def test_references_are_counted_per_authority_under_its_prefix(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Each authority numbers its own cases: CT-2026-0001, CT-2026-0002, CHF-2026-0001; and a
    prefix cannot change once its authority has cases."""
    county = two_authorities(sessions)
    with sessions() as session:
        made = [
            cases.submit_application(
                session, cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, place)
            ).reference
            for place in (county.derby, county.chesterfield, county.derby)
        ]
        assert made == ["CT-2026-0001", "CHF-2026-0001", "CT-2026-0002"]
        assert (
            session.scalar(select(Case.authority_id).where(Case.reference == "CHF-2026-0001"))
            == county.chesterfield
        )
        with pytest.raises(TriggerWorkflowError, match="cannot change once the authority has"):
            authorities.save(session, _details(reference_prefix="CHS"), existing="chesterfield")


def test_an_officer_of_one_authority_enters_applications_only_for_it(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """A coordinator's application goes to their own authority; naming another is refused."""
    county = two_authorities(sessions)
    with sessions() as session:
        cath = actors.find_officer(session, "cath")
        own = cases.submit_application(session, cases.SubmitApplication(APPLICATION, cath))
        assert own.reference.startswith("CHF-")
        with pytest.raises(TriggerWorkflowError, match="Choose a council you enter applications"):
            cases.submit_application(
                session, cases.SubmitApplication(APPLICATION, cath, None, None, county.derby)
            )


def test_an_authority_with_its_own_process_version_starts_its_cases_on_it(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """New cases take the authority's chosen process version; others follow the newest."""
    county = two_authorities(sessions)
    with sessions() as session:
        session.get(Authority, county.chesterfield).process_version_id = deployed.version.id  # type: ignore[union-attr]
        session.commit()
        made = cases.submit_application(
            session,
            cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, county.chesterfield),
        )
        case = session.scalar(select(Case).where(Case.reference == made.reference))
        assert case is not None and case.process_version_id == deployed.version.id


@pytest.mark.parametrize(
    ("postcode", "councils"),
    [
        ("DE1 2FS", ("derby-city",)),
        ("de12fs", ("derby-city",)),  # written without its space: still DE1 2FS
        ("DE12", ("south-derbyshire",)),  # only the district given
        ("S40 1LP", ("chesterfield",)),
        ("sk17 6xn", ("high-peak", "derbyshire-dales")),
        ("DE55 4AA", ("amber-valley", "bolsover", "north-east-derbyshire")),
        ("SW1A 1AA", ()),
    ],
)
def test_a_postcode_names_the_councils_it_may_be_in(
    postcode: str, councils: tuple[str, ...]
) -> None:
    """The shipped table of Derbyshire's postcode districts: one council, several on a boundary,
    none for a district it does not know."""
    assert postcodes.councils_for(postcode) == councils


def test_every_district_in_the_table_names_a_derbyshire_council() -> None:
    """The table ships whole: every row names one or more of the county's nine councils."""
    known = {
        "derby-city", "amber-valley", "bolsover", "chesterfield", "derbyshire-dales", "erewash",
        "high-peak", "north-east-derbyshire", "south-derbyshire", "north-west-leicestershire",
    }  # fmt: skip
    table = postcodes.districts()
    assert len(table) > 30
    assert all(councils and set(councils) <= known for councils in table.values())


def _migrated_to(url: str, revision: str) -> None:
    command.upgrade(db.alembic_config(url), revision)


@pytest.fixture
def old_database(tmp_path: Path) -> str:
    """An empty database to bring to the last release's schema (0012)."""
    return empty_database(tmp_path, "release_0012")


def test_a_single_council_database_migrates_to_one_authority_owning_everything(
    old_database: str,
) -> None:
    """From 0012 with a case, an officer and a reference counter: the migration makes one
    authority from the settings, gives it the case and the officer, and carries the counter on,
    so the council's next reference follows its last (CT-2026-0008 after CT-2026-0007)."""
    _migrated_to(old_database, "0012")
    engine = create_engine(old_database)
    with engine.begin() as connection:
        connection.execute(FIRST_VERSION)
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, process_version_id, status, stage, '
                "received_on, created_at, updated_at, workflow_state, serializer_version, "
                "lock_version, events_recorded, last_event_hash) VALUES (1, 'CT-2026-0007', 1, "
                "'open', 'Acknowledgement', '2026-11-02', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "'{}', '1', 1, 0, '')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO officer (id, username, display_name, role, agency) "
                "VALUES (1, 'carol', 'Carol Coordinator', 'coordinator', 'council')"
            )
        )
        connection.execute(
            text("INSERT INTO reference_counter (year, last_number) VALUES (2026, 7)")
        )
    engine.dispose()
    db.upgrade(old_database)
    engine = db.make_engine(old_database)
    with sessionmaker(engine)() as session:
        only = session.scalars(select(Authority)).all()
        assert [(a.code, a.name, a.reference_prefix, a.phone) for a in only] == [
            ("derby-city", "Derby City Council", "CT", "01332 000000")
        ]
        assert session.scalar(select(Case.authority_id)) == only[0].id
        carol = session.scalar(select(Officer))
        assert carol is not None and carol.authority_id == only[0].id and not carol.county_wide
        assert actors.officer_actor(carol).authorities == frozenset({only[0].id})
        counter = session.get(AuthorityCounter, (only[0].id, 2026))
        assert counter is not None and counter.last_number == 7
        from trigger_workflow.services.tasks import records

        assert records.next_reference(session, only[0], 2026) == "CT-2026-0008"
        # A second authority can be added after the migrated one (its id sequence moved on).
        assert authorities.save(session, CHESTERFIELD).id != only[0].id
    engine.dispose()
    old_schema.drop_database("release_0012")


def test_the_command_line_adds_authorities_and_gives_officers_theirs(database_url: str) -> None:
    """authorities add/set/list/assign, officers add --authority; a threshold above the Act's
    maximum is refused with the reason."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("deploy")
    added = run(
        "authorities", "add", "chesterfield", "--name", "Chesterfield Borough Council",
        "--prefix", "CHF", "--phone", "01246 000000", "--agency", "police",
        "--agency", "council", "--timescale", "decide_threshold=7",
    )  # fmt: skip
    assert "references CHF-YYYY-NNNN" in added
    refused = run("authorities", "set", "chesterfield", "--threshold", "4", code=1)
    assert "the Act allows no more than 3" in refused
    run("authorities", "set", "chesterfield", "--threshold", "2")
    listing = run("authorities", "list")
    assert "CHF" in listing and "threshold: 2 complaints" in listing
    assert "decide threshold: 7 working days" in listing
    run(
        "officers", "add", "cath", "--name", "Cath Coordinator", "--role", "coordinator",
        "--authority", "chesterfield", "--no-password",
    )  # fmt: skip
    run(
        "officers", "add", "pete", "--name", "Pete Police", "--role", "partner",
        "--agency", "police", "--county-wide", "--no-password",
    )  # fmt: skip
    assert "Derby City Council, Chesterfield" in run(
        "authorities", "assign", "cath", "derby-city", "--grant", "chesterfield"
    )
    assert "County-wide" in run("authorities", "assign", "cath", "--county-wide")
    assert "There is no authority 'nowhere'" in run(
        "authorities", "assign", "cath", "nowhere", code=1
    )


def test_r14_a_review_asks_only_agencies_that_serve_the_council_and_take_part_there(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14: a Chesterfield review may ask the county-wide police and Chesterfield's own police
    officer, not housing (its only officer serves Derby City); once Chesterfield lists only the
    council and the police as taking part, health (county-wide) is no longer offered either."""
    from tests.audit_cases import open_task
    from trigger_workflow.errors import FormInvalid
    from trigger_workflow.services.casework import queries

    county = two_authorities(sessions)
    with sessions() as session:
        made = cases.submit_application(
            session,
            cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, county.chesterfield),
        )
        case = session.scalar(select(Case).where(Case.reference == made.reference))
        assert case is not None
        health = actors.officer_account(session, "heath")
        authorities.set_officer_authority(session, health, None, county_wide=True)
        session.commit()
        assert authorities.agencies_for(session, case) == {"police", "health"}
        cath = actors.find_officer(session, "cath")
        from trigger_workflow.samples import ANSWERS

        for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
            task = open_task(session, made.reference, step, None)
            cases.complete_task(
                session, cases.CompleteTask(made.reference, task, ANSWERS[step], cath)
            )
        task = open_task(session, made.reference, "choose_agencies", None)
        offered = queries.task_form(session, task, cath).schema["properties"]["agencies"]
        assert {c["const"] for c in offered["items"]["oneOf"]} == {"police", "health"}
        with pytest.raises(FormInvalid, match="No active officer of Housing provider"):
            cases.complete_task(
                session, cases.CompleteTask(made.reference, task, {"agencies": ["housing"]}, cath)
            )
        session.rollback()
        authorities.save(
            session,
            _details(agencies=["council", "police"]),
            existing="chesterfield",
        )
        assert authorities.agencies_for(session, case) == {"police"}
