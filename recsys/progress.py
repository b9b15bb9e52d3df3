"""Progress of long work: a tqdm bar on the terminal, or a callback for a caller drawing its own (the app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

from tqdm.auto import tqdm

Report = Callable[[str, int, int, dict], None]  # (stage, done, total, figures such as {"validation": 0.61})
Progress = Union[bool, Report]  # noqa: UP007 (a runtime alias)


class _Reporter:
    """The part of tqdm's interface the package uses, sending every step to a callback."""

    def __init__(self, report: Report, total: int, desc: str):
        self.report, self.total, self.desc, self.done = report, total, desc, 0
        self.report(desc, 0, total, {})

    def update(self, steps: int = 1) -> None:
        self.done += steps
        self.report(self.desc, self.done, self.total, {})

    def set_postfix(self, **figures) -> None:
        self.report(self.desc, self.done, self.total, figures)

    def __enter__(self) -> _Reporter:
        return self

    def __exit__(self, *exc) -> None:
        return None


def progress_bar(progress: Progress, total: int, desc: str, unit: str):
    """A progress bar: tqdm on standard error if ``progress`` is True, silent if False, else the callback.

    >>> seen = []
    >>> with progress_bar(lambda *args: seen.append(args), 2, "embedding", "text") as steps:
    ...     steps.update(2)
    >>> seen
    [('embedding', 0, 2, {}), ('embedding', 2, 2, {})]
    """
    if callable(progress):
        return _Reporter(progress, total, desc)
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress)
