"""The descriptive fields of a catalog row: people, countries, language, maturity, length, date added, studios.

Read from the columns the common exports use (Netflix, Disney+, Prime and Hulu CSVs; IMDb-style
``Director``/``Star1..4``/``Certificate``/``Runtime``; TMDB ``credits`` with JSON ``cast`` and ``crew``), as
lists of names where there can be several. A value that cannot be read is left empty with a note naming
the row and field; it never stops the catalog from loading.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from recsys.text import normalise_text

# Recognised column names per field, best first; compared after lowercasing and dropping non-letters.
FIELD_ALIASES = {
    "directors": ("director", "directors", "directedby", "directorname"),
    "cast": ("cast", "stars", "starring", "actors", "castnames", "mainactors"),
    "countries": ("country", "countries", "productioncountries", "productioncountry", "originalcountry"),
    "language": ("language", "originallanguage", "languages", "spokenlanguages"),
    # "rating" last: catalogs that name a maturity column otherwise may use "rating" for review scores
    "maturity": (
        "maturity",
        "maturityrating",
        "certificate",
        "certification",
        "agerating",
        "contentrating",
        "mpaarating",
        "ratingcertificate",
        "rating",
    ),  # fmt: skip  # fmt: skip
    "length": ("duration", "runtime", "runtimeminutes", "length"),
    "date_added": ("dateadded", "addedat", "addeddate", "dateaddedtoplatform"),
    "studios": ("studio", "studios", "productioncompanies", "productioncompany", "network", "networks", "distributor"),
    "crew": ("crew",),  # TMDB credits: the directors are the crew whose job is Director
}
STAR_COLUMNS = re.compile(r"^star\d$")  # IMDb-style Star1..Star4: the top-billed cast, in order
LIST_FIELDS = ("directors", "cast", "countries", "studios")
# Maturity ratings as catalogs write them: MPAA, US TV, streaming age labels, and common national ones.
MATURITY = re.compile(
    r"^(?:G|PG|PG-13|R|NC-17|NR|UR|UNRATED|NOT RATED|APPROVED|PASSED|TV-Y|TV-Y7|TV-Y7-FV|TV-G|TV-PG|TV-14|TV-MA"
    r"|ALL|\d{1,2}\+|U|UA|A|U/A \d{1,2}\+?|\d{1,2}|FSK \d{1,2}|PEGI \d{1,2}|K-\d{1,2}|M|MA15\+|R18\+?)$",
    re.IGNORECASE,
)
_MINUTES = re.compile(r"^(?:(\d{1,3})\s*h(?:ours?|rs?)?)?\s*(?:(\d{1,4})\s*m(?:in(?:ute)?s?)?)?$", re.IGNORECASE)
_SEASONS = re.compile(r"^(\d{1,3})\s*seasons?$", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%b-%y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y")


def people(value: object) -> list[str]:
    """Names from a cell: comma-separated text, or a JSON list of names or of objects with a ``name``.

    >>> people("Kirsten Johnson, Ama Qamata"), people('[{"name": "Sigourney Weaver", "character": "Ripley"}]')
    (['Kirsten Johnson', 'Ama Qamata'], ['Sigourney Weaver'])

    Raises
    ------
    ValueError
        For a cell that starts like JSON but is not valid JSON.
    """
    if isinstance(value, list):  # a JSON Lines catalog gives lists as they are
        items = value
    else:
        text = _text(value)
        if not text:
            return []
        if not text.startswith("["):
            return _unique(text.split("|" if "|" in text else ","))
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("expected a JSON list")
    return _unique(item.get("name", "") if isinstance(item, dict) else str(item) for item in items)


def _unique(names) -> list[str]:
    return [name for name in dict.fromkeys(_text(name) for name in names) if name]


def directors_in_crew(value: object) -> list[str]:
    """The directors in a TMDB-style ``crew`` cell: the entries whose job is Director.

    >>> directors_in_crew('[{"job": "Director", "name": "Ridley Scott"}, {"job": "Editor", "name": "T. Rawlings"}]')
    ['Ridley Scott']
    """
    items = value if isinstance(value, list) else json.loads(text) if (text := _text(value)).startswith("[") else []
    jobs = [item for item in items if isinstance(item, dict) and item.get("name")]
    return [item["name"] for item in jobs if item.get("job") == "Director"]


def looks_like_maturity(values: list) -> bool:
    """Whether a column's values are maturity ratings (a "rating" column may hold review scores instead).

    >>> looks_like_maturity(["TV-MA", "PG-13", "", "74 min"]), looks_like_maturity(["7.8", "6.1", "8.0"])
    (True, False)
    """
    written = [text for text in map(_text, values) if text]
    return not written or sum(maturity(text) is not None for text in written) >= len(written) / 2


def maturity(value: object) -> str | None:
    """A maturity rating as written ("PG-13", "TV-MA", "13+"), or None if the value is not one.

    >>> maturity("TV-MA"), maturity(" pg-13 "), maturity("13+"), maturity("7.8"), maturity("")
    ('TV-MA', 'PG-13', '13+', None, None)
    """
    text = _text(value)
    return text.upper() if text and MATURITY.match(text) and not re.fullmatch(r"\d+\.\d+", text) else None


def length(value: object) -> tuple[int | None, int | None]:
    """(runtime in minutes, seasons) from "94 min", "1h 30m", "2 Seasons" or a bare number of minutes.

    >>> length("94 min"), length("1h 30m"), length("2 Seasons"), length("1 Season"), length(142.0)
    ((94, None), (90, None), (None, 2), (None, 1), (142, None))

    Raises
    ------
    ValueError
        For a value that is none of these.
    """
    text = _text(value)
    if not text:
        return None, None
    if re.fullmatch(r"\d{1,4}(?:\.0)?", text):
        return int(float(text)), None
    if seasons := _SEASONS.match(text):
        return None, int(seasons.group(1))
    minutes = _MINUTES.match(text)
    if minutes and (minutes.group(1) or minutes.group(2)):
        return 60 * int(minutes.group(1) or 0) + int(minutes.group(2) or 0), None
    raise ValueError(f"{text[:40]!r} is not a runtime or a number of seasons")


def date_added(value: object) -> str:
    """A date as ISO ``YYYY-MM-DD`` ("25-Sep-21", "September 25, 2021", "2021-09-25"), or "" if empty.

    >>> date_added("25-Sep-21"), date_added("September 25, 2021"), date_added(" 2021-09-25 ")
    ('2021-09-25', '2021-09-25', '2021-09-25')

    Raises
    ------
    ValueError
        For a value in none of the date formats exports use.
    """
    text = _text(value)
    if not text:
        return ""
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"{text[:40]!r} is not a date")


def read_fields(cells: dict, row: int, notes: list[str]) -> dict:
    """The descriptive fields of one row from its recognised cells; values that cannot be read get a note."""
    record: dict = {name: [] for name in LIST_FIELDS}
    record.update(language="", maturity="", runtime=None, seasons=None, date_added="")
    for name in LIST_FIELDS:
        record[name] = _noted(people, cells.get(name), row, name, notes, [])
    if not record["directors"] and "crew" in cells:
        record["directors"] = _noted(directors_in_crew, cells["crew"], row, "crew", notes, [])
    if not record["cast"] and cells.get("stars"):
        record["cast"] = [name for name in map(_text, cells["stars"]) if name]
    languages = _noted(people, cells.get("language"), row, "language", notes, [])
    record["language"] = languages[0] if languages else ""
    rating, runtime = _text(cells.get("maturity")), cells.get("length")
    if rating and not maturity(rating):
        if not _text(runtime) and _is_length(rating):  # a runtime in the rating column, as some exports have
            notes.append(f"row {row}, field 'maturity': {rating!r} is a runtime; read as the length")
            runtime = rating
        else:
            notes.append(f"row {row}, field 'maturity': {rating[:40]!r} is not a maturity rating; left empty")
    record["maturity"] = maturity(rating) or ""
    record["runtime"], record["seasons"] = _noted(length, runtime, row, "length", notes, (None, None))
    record["date_added"] = _noted(date_added, cells.get("date_added"), row, "date_added", notes, "")
    return record


def _is_length(text: str) -> bool:
    try:
        return length(text) != (None, None) and not text.isdigit()
    except ValueError:
        return False


def _noted(read, value, row: int, name: str, notes: list[str], empty):
    """``read(value)``, or ``empty`` with a note when the value cannot be read."""
    try:
        return read(value)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        notes.append(f"row {row}, field '{name}': {err}; left empty")
        return empty


def _text(value: object) -> str:
    return normalise_text(value)
