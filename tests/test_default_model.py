"""The default model, trained on recsys's own catalog on first use, as `recsys train CATALOG --init none` does."""

import json

import pytest

from recsys import load_catalog
from recsys.default import DEFAULT_CATALOG, default_model


@pytest.fixture(scope="module")
def shipped(default_model):
    return default_model


def test_it_was_built_from_the_catalog_as_it_is_now(shipped):
    config = json.loads((default_model() / "config.json").read_text())
    assert config["catalog"]["fingerprint"] == load_catalog(DEFAULT_CATALOG).fingerprint()
    assert shipped.scorer.settings.understand_queries


def test_a_default_model_built_by_other_code_is_not_current(shipped, tmp_path):
    import shutil

    from recsys.default import _is_current

    fingerprint = load_catalog(DEFAULT_CATALOG).fingerprint()
    copy = tmp_path / "default"
    shutil.copytree(default_model(), copy)
    assert _is_current(copy, fingerprint)
    config = json.loads((copy / "config.json").read_text())
    config["code"] = "0" * 64  # built by another release or checkout: rebuilt, not trusted or failed on
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


class _Called(BaseException):
    """Stops a build at its training call (a BaseException, so no error handler on the way catches it)."""


def test_the_default_model_is_what_its_command_builds(monkeypatch, tmp_path):
    """`default_model()` and `recsys train CATALOG --init none` make the same training call, argument for
    argument (the training itself is seeded: ``test_train`` runs it twice)."""
    import inspect

    from recsys import cli, train
    from recsys.train import TrainConfig

    calls, signature = [], inspect.signature(train.train_catalog)

    def record(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        called = {**arguments.arguments, "catalog": arguments.arguments["catalog"].fingerprint()}
        called["config"] = called["config"] or TrainConfig()
        called.pop("progress")  # the app shows a bar, the command line a terminal's
        calls.append(called)
        raise _Called

    monkeypatch.setattr(train, "train_catalog", record)
    monkeypatch.setattr(cli, "train_catalog", record)
    monkeypatch.setenv("RECSYS_HOME", str(tmp_path / "home"))  # no model there: default_model() builds one
    with pytest.raises(_Called):
        default_model()
    with pytest.raises(_Called):
        cli.main(["train", str(DEFAULT_CATALOG), "--out", str(tmp_path / "out"), "--init", "none", "--quiet"])
    assert len(calls) == 2 and calls[0] == calls[1], calls
