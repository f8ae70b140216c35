"""Which council a postcode is in: a table of postcode districts that ships with the project.

The table (data/postcode_districts.csv) is for the demo county, Derbyshire; no network is used.
A district that spans councils, or that the table does not know, is answered with every
council it may be, and the applicant chooses.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

# The outward code of a UK postcode: its district ("DE1", "SK17", "S40"), before the space.
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})?")


@cache
def districts() -> dict[str, tuple[str, ...]]:
    """Return the shipped table: postcode district to the codes of the councils it is in."""
    table = resources.files("trigger_workflow").joinpath("data/postcode_districts.csv")
    with table.open(encoding="utf-8") as rows:
        return {
            row["district"].strip().upper(): tuple(c.strip() for c in row["councils"].split(";"))
            for row in csv.DictReader(rows)
        }


def district_of(postcode: str) -> str | None:
    """Return the district of a postcode ("de1 2fs" gives "DE1"), or None if it is not one."""
    found = POSTCODE.fullmatch(" ".join(postcode.upper().split()))
    return found.group(1) if found else None


def councils_for(postcode: str) -> tuple[str, ...]:
    """Return the codes of the councils a postcode may be in: one, several, or none if unknown."""
    district = district_of(postcode)
    return districts().get(district, ()) if district else ()
