"""Spanish to English with Apertium, offline: the words of a Spanish query reach the English-trained encoder.

Apertium's Spanish–English pair is the Debian package ``apertium-en-es``. Its pipeline (the ``spa-eng``
mode: morphology, tagger, transfer, generation; ``eng-spa`` the other way) is started once and kept running
in null-flush mode, so each query costs about a millisecond rather than a process start. Without the package
the translator is unavailable and queries keep their Spanish words (query understanding still reads genres,
years, people).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

MODES = (Path("/usr/share/apertium/modes"), Path("/usr/local/share/apertium/modes"))
QUERY_PAIR = "spa-eng"  # what queries need: Spanish to English
CACHED = 4096  # translations kept per translator
INSTALL_HINT = "install the Debian package apertium-en-es"
_SPECIAL = re.compile(r"([\^$@/<>{}\[\]\\*])")  # characters Apertium's stream format reserves
_ESCAPED = re.compile(r"\\(.)")


class Translator:
    """A running Apertium pipeline for one language pair; thread-safe, one query at a time.

    Parameters
    ----------
    mode : Path
        The pair's mode file (a shell pipeline of Apertium stages).
    """

    def __init__(self, mode: Path):
        stages = [shlex.split(stage) for stage in mode.read_text().strip().split("|")]
        command = " | ".join(shlex.join(_null_flushing(stage)) for stage in stages)
        self._process = subprocess.Popen(
            ["bash", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, str] = OrderedDict()  # the last CACHED translations, newest last

    @classmethod
    def find(cls, pair: str = QUERY_PAIR) -> Translator | None:
        """The translator of an Apertium mode ("spa-eng", "eng-spa"), or None when it is not installed."""
        mode = next((folder / f"{pair}.mode" for folder in MODES if (folder / f"{pair}.mode").is_file()), None)
        if mode is None or shutil.which("lt-proc") is None:
            return None
        return cls(mode)

    def translate(self, text: str) -> str:
        """The translation of a text (spa-eng: "películas de terror" → "Films of terror").

        The last ``CACHED`` translations are kept: a query is read again by each page that shows it, and
        explanations translate its words one by one.

        Raises
        ------
        OSError
            If the pipeline stopped.
        """
        with self._lock:
            if text in self._recent:
                self._recent.move_to_end(text)
                return self._recent[text]
            self._process.stdin.write(_SPECIAL.sub(r"\\\1", text).encode() + b"\n\0")  # a line end flushes it
            self._process.stdin.flush()
            output = b""
            while not output.endswith(b"\0"):
                chunk = self._process.stdout.read1(4096)
                if not chunk:
                    raise OSError("the Apertium pipeline stopped")
                output += chunk
            translation = " ".join(_ESCAPED.sub(r"\1", output[:-1].decode()).replace("*", "").split())
            self._recent[text] = translation
            if len(self._recent) > CACHED:
                self._recent.popitem(last=False)
        return translation

    def forget(self) -> None:
        """Drop the translations kept so far (the next ones are made afresh, as a new query's are)."""
        with self._lock:
            self._recent.clear()

    def close(self) -> None:
        """Stop the pipeline."""
        self._process.terminate()


def _null_flushing(stage: list[str]) -> list[str]:
    """A stage of the mode's pipeline run in null-flush mode, with the mode's parameters filled in."""
    arguments = [argument for argument in stage if argument not in ("$1", "$2")]
    program, rest = arguments[0], arguments[1:]
    if program == "lt-proc" and not any(flag.startswith("-") for flag in rest) and "autogen" in " ".join(rest):
        rest = ["-g", *rest]  # the mode's $1: generation
    return [program, "-z", *rest]


_shared: Translator | None = None
_tried = False
_start = threading.Lock()


def shared_translator() -> Translator | None:
    """The process's Spanish–English translator, started on first use (None when Apertium is absent)."""
    global _shared, _tried
    with _start:
        if not _tried:
            _tried = True
            _shared = Translator.find()
    return _shared


def align(source: str, english: str, translate) -> list[int | None]:
    """For each word of ``english`` (a translation of ``source``), the index of the source word it came from.

    Each source word is translated alone; an English word comes from the first source word whose own
    translation has it, or that it equals (names pass through). Words that come from none (articles,
    prepositions the translation added) get None.

    >>> align("casa embrujada", "Bewitched house", {"casa": "house", "embrujada": "bewitched"}.get)
    [1, 0]
    """
    sources = words_of(source)
    alone = [{word.lower() for _, word in words_of(translate(word) or "")} for _, word in sources]
    found = []
    for _, word in words_of(english):
        word = word.lower()
        match = next((i for i, (_, typed) in enumerate(sources) if word in alone[i] or word == typed.lower()), None)
        found.append(match)
    return found


def words_of(text: str) -> list[tuple[int, str]]:
    """The words of a text with where each starts ("Sci-fi on aliens" → (0, "Sci-fi"), (7, "on"), ...)."""
    return [(match.start(), match.group()) for match in re.finditer(r"[\w'-]+", text)]
