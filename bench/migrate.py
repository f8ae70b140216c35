"""Time moving open cases to another process version: the dry run and the real move, per case.

    .venv/bin/python bench/migrate.py [--cases 200] [--database-url URL]

Half the cases wait on the acknowledgement, half on recording complaints; version 2 changes one
task's label, so every case can move. A measurement, not a test: it asserts that every case
moved, nothing about time.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from database import fresh, server_version, sqlite_url
from timing import ms, progress, timed
from workload import FORMS, PROCESSES

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.samples import ANSWERS, APPLICATION
from trigger_workflow.services.accounts.actors import PUBLIC
from trigger_workflow.services.casework.queries import case_page
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.case_migration import MigrateCases, migrate_cases
from trigger_workflow.services.tasks import cases


def main() -> None:
    """Create the cases, deploy a relabelled version, and time the dry run and the move."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = fresh(args.database_url or sqlite_url(Path(directory), "migrate"))
        coordinator = database.officers["carol"]
        owner = database.officers["owen"]
        progress(f"creating {args.cases} cases")
        with database.sessions() as session:
            for number in range(args.cases):
                result = cases.submit_application(
                    session, cases.SubmitApplication(APPLICATION, PUBLIC, f"bench-{number}")
                )
                if number % 2:
                    task = case_page(session, result.reference).open_tasks[0]
                    cases.complete_task(
                        session,
                        cases.CompleteTask(
                            result.reference,
                            task.id,
                            ANSWERS["acknowledge_application"],
                            coordinator,
                        ),
                    )
            files = processes.read_process_files(PROCESSES, FORMS).files
            relabelled = files["acknowledgement.bpmn"].replace(
                'name="Acknowledge application"', 'name="Acknowledge the application"'
            )
            processes.deploy(
                session, ProcessFiles({**files, "acknowledgement.bpmn": relabelled}), "bench"
            )
        with database.sessions() as session:
            dry, dry_time = timed(
                lambda: migrate_cases(session, MigrateCases(1, 2, owner, dry_run=True))
            )
        with database.sessions() as session:
            real, real_time = timed(
                lambda: migrate_cases(session, MigrateCases(1, 2, owner, dry_run=False))
            )
        assert len(real.movable) == args.cases and not real.not_movable, real.not_movable
        count = len(dry.movable)
        print(f"{server_version(database.engine)}; {args.cases} open cases")
        print(f"dry run: {ms(dry_time)} in all, {ms(dry_time / count)} per case")
        print(f"move:    {ms(real_time)} in all, {ms(real_time / count)} per case")
        database.dispose()


if __name__ == "__main__":
    main()
