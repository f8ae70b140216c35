"""The case list's free-text search: a reference or postcode by its start, an applicant's name
anywhere in it, any case — each written so that an index answers it (issue 15, item 4).

A name "contains" search cannot use an ordinary index, so without help both databases read every
case (56–69 ms at 100,000 on PostgreSQL). Migration 0020 adds what each database needs:

- PostgreSQL: pg_trgm's GIN index on `lower(applicant_name)`, and `text_pattern_ops` B-trees on
  `reference` and `lower(applicant_postcode)`, so the three arms of the OR become a BitmapOr of
  index scans. The expressions here must stay exactly those of the indexes.
- SQLite: an FTS5 table with the trigram tokenizer over `case.applicant_name` (external content:
  it stores no copy of the names, only its index), kept in step by triggers on `case`; and
  NOCASE indexes on `reference` and `applicant_postcode` for the LIKE prefix optimisation.

Both databases then match names ignoring case for every letter, not only ASCII (SQLite's LIKE
folded ASCII only, so "śmiałek" did not find "Śmiałek" there; PostgreSQL's lower() did).
Trigrams need three characters: shorter text reads every case, as before — on SQLite by LIKE
once for each way of writing its non-ASCII letters in either case (at most four), on PostgreSQL
by the same lower() LIKE (the planner reads the table when that is quicker).
"""

from __future__ import annotations

import itertools

from sqlalchemy import ColumnElement, Select, column, func, or_, select, table, text, union_all
from sqlalchemy.orm import Session

from trigger_workflow.store.models import Case

SEARCH_TABLE = "case_name_search"
TRIGRAM = 3  # characters: text shorter than this has no trigram to look up
_names = table(SEARCH_TABLE, column("rowid"), column("applicant_name"))


def matches_text(text: str, dialect: str) -> ColumnElement[bool]:
    """Match a reference or postcode by its start, or an applicant's name anywhere, any case.

    On SQLite, with text long enough for trigrams, the three arms are gathered as one list of
    case ids: written as an OR beside the officer's access condition, SQLite walks all of her
    council's cases by `authority_id` instead (it keeps no statistics to know better).
    """
    reference = Case.reference.like(_escape(text.upper()) + "%", escape="\\")
    postcode = _postcode_starts(text, dialect)
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        arms = [select(Case.id).where(reference), select(Case.id).where(postcode), _named(text)]
        return Case.id.in_(union_all(*arms))
    return or_(reference, postcode, _name_contains(text, dialect))


def _name_contains(text: str, dialect: str) -> ColumnElement[bool]:
    """Match the names containing the text, ignoring case: on PostgreSQL in the trigram index's
    own expression; on SQLite (text too short for trigrams) by reading every case."""
    if dialect != "sqlite":
        return func.lower(Case.applicant_name).like(f"%{_escape(text.lower())}%", escape="\\")
    ways = case_variants(text)
    return or_(*(Case.applicant_name.like(f"%{_escape(way)}%", escape="\\") for way in ways))


def _named(text: str) -> Select[tuple[int]]:
    """Return the ids of the cases whose name holds the text, from SQLite's trigram index."""
    return select(_names.c.rowid).where(_names.c.applicant_name.match(fts_phrase(text)))


def fts_phrase(text: str) -> str:
    """Return the text as one FTS5 string: its own quotes doubled, so no character of it (AND,
    NEAR, *, ^, parentheses, quotes) is read as query syntax. A trigram phrase matches the
    names holding the text as a substring."""
    return '"' + text.replace('"', '""') + '"'


def case_variants(text: str) -> list[str]:
    """Return every way of writing the text with each non-ASCII letter in lower or upper case
    (LIKE folds ASCII itself; only one-character case mappings: "ß" stays as typed)."""
    choices = [
        sorted({c, *(v for v in (c.lower(), c.upper()) if len(v) == 1 and not c.isascii())})
        for c in text
    ]
    return ["".join(letters) for letters in itertools.product(*choices)]


def merge_index(session: Session) -> None:
    """On SQLite, merge the full-text index into one segment: a removed or changed name is kept
    in the older segments, under a deletion marker, until they are merged (after erasures)."""
    session.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')"))


def _postcode_starts(text: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":  # LIKE folds ASCII; the NOCASE index answers it
        return Case.applicant_postcode.like(_escape(text) + "%", escape="\\")
    return func.lower(Case.applicant_postcode).like(_escape(text.lower()) + "%", escape="\\")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
