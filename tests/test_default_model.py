"""The default model, trained on recsys's own catalog on first use, as `recsys train CATALOG --init none` does."""

import json

import pytest

from recsys import MovieSearch, load_catalog
from recsys.default import DEFAULT_CATALOG, default_model


@pytest.fixture(scope="module")
def shipped(default_model):
    return default_model


def test_it_was_built_from_the_catalog_as_it_is_now(shipped):
    config = json.loads((default_model() / "config.json").read_text())
    assert config["catalog"]["fingerprint"] == load_catalog(DEFAULT_CATALOG).fingerprint()
    assert shipped.scorer.settings.understand_queries


def test_a_default_model_this_version_cannot_read_is_not_current(shipped, tmp_path):
    import shutil

    from recsys.default import _is_current

    fingerprint = load_catalog(DEFAULT_CATALOG).fingerprint()
    copy = tmp_path / "default"
    shutil.copytree(default_model(), copy)
    assert _is_current(copy, fingerprint)
    config = json.loads((copy / "config.json").read_text())
    config["scoring"]["a_setting_of_another_version"] = 1.0  # written by another recsys: rebuilt, not failed on
    (copy / "config.json").write_text(json.dumps(config))
    assert not _is_current(copy, fingerprint)


def _kinds(model, hits):
    frame = model.catalog.frame.set_index("id")
    return [frame.at[h.id, "kind"] for h in hits]


def test_genre_decade_and_kind_queries_give_what_they_ask_for(shipped):
    horror = shipped.search("horror", k=10)
    assert len(horror) == 10 and all("Horror" in h.genres for h in horror)
    romcoms = shipped.search("90s romantic comedy", k=10)
    assert all(1990 <= h.year <= 1999 and {"Romance", "Comedy"} <= set(h.genres) for h in romcoms)
    kids = shipped.search("animated series for kids", k=10)
    assert set(_kinds(shipped, kids)) == {"series"}
    assert all({"Animation", "Family"} & set(h.genres) for h in kids)
    assert {"Animation", "Family"} <= set(kids[0].genres)
    music = shipped.search("documentary about music", k=5)
    assert all({"Documentary", "Music"} <= set(h.genres) for h in music)


def test_what_was_understood_is_returned(shipped):
    intents = shipped.understand("sci-fi about first contact with aliens")
    assert "genre: Science Fiction, from 'sci-fi'" in intents.explained
    assert not intents.genre_only
    assert "Science Fiction" in shipped.search("sci-fi about first contact with aliens", k=1)[0].genres


@pytest.mark.slow
def test_the_default_model_is_what_its_command_builds(tmp_path):
    from recsys.cli import main

    assert main(["train", str(DEFAULT_CATALOG), "--out", str(tmp_path / "default"), "--init", "none", "--quiet"]) == 0
    rebuilt = json.loads((tmp_path / "default" / "metrics.json").read_text())
    shipped = json.loads((default_model() / "metrics.json").read_text())
    assert rebuilt["chosen"] == shipped["chosen"]
    for name, score in shipped["validation"].items():
        assert rebuilt["validation"][name] == pytest.approx(score, abs=0.005)
    rebuilt_model = MovieSearch.load(tmp_path / "default")
    assert rebuilt_model.scorer.settings == MovieSearch.load(default_model()).scorer.settings
