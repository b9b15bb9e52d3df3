"""Errors a user can act on: each names the file, row or field at fault."""

from __future__ import annotations


class RecsysError(Exception):
    """Base class for every error the CLI reports as one line, without a traceback."""


class CatalogError(RecsysError):
    """A catalog file that cannot be read as a catalog.

    Parameters
    ----------
    source : str
        The file (or other source) the catalog came from.
    message : str
        What is wrong, in plain words.
    row : int, optional
        1-based data row (the header is row 0), when one row is at fault.
    field : str, optional
        The column at fault.
    """

    def __init__(self, source: str, message: str, row: int | None = None, field: str | None = None):
        self.source, self.row, self.field = source, row, field
        where = source
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class ModelError(RecsysError):
    """A model directory that is missing, incomplete, or not one this version can load."""


class QueryError(RecsysError):
    """A query that cannot be searched (for example, empty)."""


class UnknownTitle(QueryError):
    """An id that names no title of the model's catalog."""
