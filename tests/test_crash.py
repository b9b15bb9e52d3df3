"""Killing `recsys index` and `recsys train` with SIGKILL at random points never loses the model."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recsys import MovieSearch

pytestmark = pytest.mark.slow

QUERIES = ["aliens on a ship", "a wedding", "war", "ghost in a house", "gold in the west"]


def _answers(directory: Path) -> list:
    model = MovieSearch.load(directory)
    return [model.search(query, k=5) for query in QUERIES]


def _command(kind: str, catalog: Path, out: Path) -> list[str]:
    extra = ["--init", "none", "--epochs", "3"] if kind == "train" else []
    return [sys.executable, "-m", "recsys.cli", kind, str(catalog), "--out", str(out), "--quiet", *extra]


def _run(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return time.monotonic() - started


@pytest.mark.parametrize("kind, kills", [("index", 14), ("train", 6)])  # 20 kill points in all
def test_sigkill_at_random_points_leaves_a_model_that_loads_and_answers(kind, kills, small_catalog_path, tmp_path):
    rows = small_catalog_path.read_text().splitlines(keepends=True)
    previous_catalog = tmp_path / "previous.csv"
    previous_catalog.write_text("".join(rows[:9]))  # the header and 8 titles
    model = tmp_path / "model"
    _run(_command(kind, previous_catalog, model))
    previous = _answers(model)
    shutil.copytree(model, tmp_path / "previous-copy")
    duration = _run(_command(kind, small_catalog_path, tmp_path / "reference"))
    new = _answers(tmp_path / "reference")
    assert new != previous

    rng = random.Random(0)
    # Spread over the whole run, with a share near its end, where the model is written.
    delays = [rng.uniform(0.1, duration) for _ in range(kills - kills // 4)]
    delays += [rng.uniform(0.85 * duration, 1.05 * duration) for _ in range(kills // 4)]
    for delay in delays:
        process = subprocess.Popen(_command(kind, small_catalog_path, model), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)  # the kill point
        process.kill()
        process.wait()
        # What the kill left: the model directory whole, as the previous or the new model (it loads, every
        # checksum verified, and answers as one of them); beside it, at most a hidden staging directory.
        answers = _answers(model)
        assert answers in (previous, new), f"killed after {delay:.2f} s: the model answers as neither"
        left = {path.name for path in tmp_path.iterdir()} - {"model", "previous-copy", "reference", "previous.csv"}
        assert all(name.startswith((".model.tmp-", ".model.old-")) for name in left), left
        if answers == new:  # put the previous model back, so the next kill can lose it again
            shutil.rmtree(model)
            shutil.copytree(tmp_path / "previous-copy", model)
    _run(_command(kind, small_catalog_path, model))  # a run to the end cleans what killed runs left behind
    assert _answers(model) == new
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".model")] == []
