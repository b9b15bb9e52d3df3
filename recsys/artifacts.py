"""The model directory on disk: written atomically, checksummed, never unpickled."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recsys.errors import ModelError

FORMAT_VERSION = 1
CONFIG = "config.json"
_LIBRARIES = ("recsys", "torch", "faiss-cpu", "tokenizers", "safetensors", "numpy", "pandas", "pyarrow")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that wrote a model, recorded in its config."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success it replaces ``target`` whole.

    A crash (or an exception) while writing leaves ``target`` as it was and removes the temporary one.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace_directory(staging: Path, target: Path) -> None:
    _fsync_tree(staging)
    if not target.exists():
        os.rename(staging, target)
        return
    if not (target / CONFIG).is_file() and any(target.iterdir()):
        raise ModelError(f"{target}: exists and is not a recsys model; refusing to replace it")
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, retired)
    os.rename(staging, target)
    shutil.rmtree(retired, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for folder in [directory, *(p for p in directory.rglob("*") if p.is_dir())]:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_config(directory: Path, config: dict) -> None:
    """Write ``config.json`` with the checksum of every other file in the directory."""
    files = {
        path.relative_to(directory).as_posix(): sha256(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != CONFIG
    }
    config = {"format_version": FORMAT_VERSION, "libraries": library_versions(), **config, "files": files}
    write_json(directory / CONFIG, config)


def read_config(directory: str | Path) -> dict:
    """Read and check a model directory's config: known format, every file present and unchanged.

    Raises
    ------
    ModelError
        For a missing directory or file, a changed checksum, or a format from a newer recsys.
    """
    directory = Path(directory)
    path = directory / CONFIG
    if not path.is_file():
        raise ModelError(f"{directory}: not a recsys model directory (no {CONFIG})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: not valid JSON ({err})") from None
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {version!r} is newer than this recsys reads ({FORMAT_VERSION}); upgrade recsys"
        )
    for name, expected in config.get("files", {}).items():
        file = directory / name
        if not file.is_file():
            raise ModelError(f"{directory}: {name} is missing; rebuild the model")
        if sha256(file) != expected:
            raise ModelError(f"{file}: checksum does not match config.json; the file was changed or damaged")
    return config


def write_json(path: Path, data: dict) -> None:
    """Write a small JSON document (UTF-8, indented)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    """Read a JSON document written by :func:`write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))
