"""What the observatory shows of a saved run: the candidates a visitor's filters keep, sorted, by page."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from grappe.kit import export

if TYPE_CHECKING:
    import pandas as pd

#: Candidates per page of a table.
PAGE_SIZE = 25
#: Sort keys of the URL (``-key`` for descending) and the column each sorts on.
SORTS = {
    "rank": "rank",
    "territory": "territory_name",
    "sector": "sector",
    "establishments": "establishments",
    "employment": "employment",
    "lq": "lq",
    "score": "score",
}
DEFAULT_SORT = "rank"
# What a sector filter ignores, so that 25.62A, 2562A and 25.62a find the same sous-classe.
_CODE_NOISE = re.compile(r"[\s.]")


@dataclass(frozen=True)
class Filters:
    """The filters of the URL, parsed.

    Attributes
    ----------
    territory : str
        A territory code (or its beginning) or part of its name.
    sector : str
        A sector code (or its beginning, with or without the dot) or part of its name.
    strong : bool
        Only candidates meeting the U.S. Cluster Mapping's strong-cluster rule.
    min_score : float or None
        Only candidates scoring at least this much (0 to 1).
    sort : str
        A key of :data:`SORTS`, ``-`` first for descending.
    exact : bool
        ``territory`` and ``sector`` are whole codes (the territory and sector pages).
    """

    territory: str = ""
    sector: str = ""
    strong: bool = False
    min_score: float | None = None
    sort: str = DEFAULT_SORT
    exact: bool = False

    def exactly(self, *, territory: str = "", sector: str = "") -> Filters:
        """These filters on one territory or one sector (its code, whole)."""
        return replace(self, territory=territory, sector=sector, exact=True)


def select(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The candidates the filters keep, in the order asked (ties by rank; missing values last)."""
    keep = frame["rank"].notna()
    if filters.territory:
        codes = frame["territory_code"].astype(str)
        if filters.exact:
            keep &= codes == filters.territory
        else:
            wanted = filters.territory.strip()
            keep &= codes.str.startswith(wanted) | _contains(frame["territory_name"], wanted)
    if filters.sector:
        codes = frame["sector"].astype(str)
        if filters.exact:
            keep &= codes == filters.sector
        else:
            plain = codes.str.replace(_CODE_NOISE, "", regex=True).str.upper()
            wanted = _CODE_NOISE.sub("", filters.sector).upper()
            keep &= (plain.str.startswith(wanted) & (wanted != "")) | _contains(
                frame["sector_name"], filters.sector.strip()
            )
    if filters.strong:
        keep &= frame["strong"].astype(bool)
    if filters.min_score is not None:
        keep &= frame["score"] >= filters.min_score
    chosen = frame[keep]
    descending = filters.sort.startswith("-")
    column = SORTS[filters.sort.lstrip("-")]
    if column == "rank":
        return chosen.sort_values("rank", ascending=not descending, kind="stable")
    return chosen.sort_values(
        [column, "rank"], ascending=[not descending, True], kind="stable", na_position="last"
    )


def page_of(frame: pd.DataFrame, number: int) -> tuple[pd.DataFrame, int, int]:
    """The rows of page ``number`` (from 1, brought within the pages), that number, the pages."""
    pages = max(1, math.ceil(len(frame) / PAGE_SIZE))
    number = min(max(1, number), pages)
    start = (number - 1) * PAGE_SIZE
    return frame.iloc[start : start + PAGE_SIZE], number, pages


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The rows as CSV for programs (CONTRACTS.md, "Files")."""
    out = io.StringIO()
    export.write_csv(out, frame, dialect=export.PROGRAMS)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The rows as an XLSX sheet for people: French headers, number formats, frozen header."""
    from grappe.detection import labels

    out = io.BytesIO()
    export.write_xlsx(
        out,
        frame,
        labels=labels.labels(frame.columns),
        number_formats=labels.number_formats(frame.columns),
        sheet=sheet,
    )
    return out.getvalue()


def _contains(column: pd.Series, text: str) -> pd.Series:
    return column.astype(str).str.casefold().str.contains(text.casefold(), regex=False)
