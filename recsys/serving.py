"""A model served while it changes on disk: each request is answered wholly by one version of it.

``recsys add``, ``remove`` and retraining replace a model directory in one atomic step
(``recsys.modeldir``). :class:`ServedModel` notices the new ``config.json`` on the next request, loads the
new model in a background thread while the old one keeps answering, and then swaps the two in one
assignment: a request takes the (version, model) pair once and uses it to the end, so it is never
answered by a mix of the two. A model that fails to load leaves the previous one serving.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from recsys.engine import MovieSearch
from recsys.errors import ModelError, RecsysError
from recsys.modeldir import CONFIG

log = logging.getLogger("recsys.serve")
TOKEN_VARIABLE = "RECSYS_API_TOKEN"


@dataclass(frozen=True)
class Version:
    """One loaded model and what identifies it: the SHA-256 of its ``config.json`` (which lists every file's)."""

    name: str
    model: MovieSearch
    stamp: tuple[int, int, int]  # (device, inode, mtime ns) of the config.json it was read from


class ServedModel:
    """The model in a directory, reloaded when the directory is replaced.

    Parameters
    ----------
    directory : Path
        A model directory (``MovieSearch.save``).

    Raises
    ------
    ModelError
        If the directory holds no loadable model at start.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._current = _load(self.directory)
        self._reloading = threading.Lock()
        self.last_error: str | None = None

    def current(self) -> Version:
        """The version to answer a request with; starts loading a newer one if the directory changed."""
        version = self._current
        try:
            stamp = _stamp(self.directory)
        except OSError:  # between the two renames of a non-atomic swap: keep serving what we have
            return version
        if stamp != version.stamp and self._reloading.acquire(blocking=False):
            threading.Thread(target=self._reload, name="recsys-reload", daemon=True).start()
        return version

    def reload_now(self) -> Version:
        """The directory's model now: the one serving if the directory is unchanged, else loaded and served."""
        with self._reloading:
            try:
                unchanged = _stamp(self.directory) == self._current.stamp
            except OSError:  # no config.json just now: loading says what is wrong
                unchanged = False
            if not unchanged:
                self._swap()
        return self._current

    def _reload(self) -> None:
        try:
            self._swap()
        finally:
            self._reloading.release()

    def _swap(self) -> None:
        try:
            loaded = _load(self.directory)
        except RecsysError as err:  # a model written by another version, say: the previous one keeps serving
            self.last_error = str(err)
            log.warning("model not reloaded, the previous one keeps serving: %s", err)
            return
        self.last_error = None
        self._current = loaded  # one assignment: a request sees the old pair or the new one


def _stamp(directory: Path) -> tuple[int, int, int]:
    status = os.stat(directory / CONFIG)
    return status.st_dev, status.st_ino, status.st_mtime_ns


def _load(directory: Path) -> Version:
    """Read a model and its version; the stamp is taken first, so a swap during the read is noticed later."""
    for _ in range(3):  # a swap while reading changes files under the reader; read again
        try:
            stamp = _stamp(directory)
        except OSError as err:
            raise ModelError(f"{directory}: no model here ({err.strerror})") from None
        config = (directory / CONFIG).read_bytes()
        try:
            model = MovieSearch.load(directory)
        except ModelError:
            if _stamp(directory) == stamp:
                raise
            continue
        if _stamp(directory) == stamp:
            return Version(hashlib.sha256(config).hexdigest()[:12], model, stamp)
    raise ModelError(f"{directory}: changed three times while being read")


def api_token(token_file: Path | None = None) -> str | None:
    """The bearer token that allows writes: ``RECSYS_API_TOKEN``, else the first line of ``token_file``.

    None when neither is set: then every write is refused.

    Raises
    ------
    RecsysError
        If the token file cannot be read or is empty.
    """
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        return token
    if token_file is None:
        return None
    try:
        lines = Path(token_file).read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise RecsysError(f"{token_file}: cannot read the token file ({err.strerror})") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise RecsysError(f"{token_file}: the token file is empty")
    return token
