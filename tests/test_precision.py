"""Document encoding precision: bfloat16 close to float32, queries in float32, recorded with the model."""

import json
from dataclasses import replace

import numpy as np
import pytest

from recsys import MovieSearch, load_catalog
from recsys.encoding import PRECISIONS, native_bfloat16
from recsys.errors import ModelError


@pytest.fixture(scope="module")
def documents(small_catalog_path):
    return load_catalog(small_catalog_path).documents()


def test_bfloat16_documents_stay_within_cosine_0_999_of_float32_and_queries_stay_float32(pretrained, documents):
    full, half = pretrained.with_precision("float32"), pretrained.with_precision("bfloat16")
    exact, fast = full.embed(documents, documents=True), half.embed(documents, documents=True)
    cosines = (exact * fast).sum(1)
    assert cosines.min() > 0.999
    assert not np.array_equal(exact, fast)  # bfloat16 was really used
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    queries = ["robots in space", "a funny wedding"]
    assert np.array_equal(full.embed(queries), half.embed(queries))
    assert np.array_equal(exact, full.embed(documents))  # float32 documents are encoded as queries are


def test_auto_precision_follows_the_cpu_and_unknown_ones_are_refused(pretrained):
    assert pretrained.precision == "auto"
    assert pretrained.document_precision == ("bfloat16" if native_bfloat16() else "float32")
    assert {pretrained.with_precision(p).document_precision for p in PRECISIONS[1:]} == {"float32", "bfloat16"}
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        pretrained.with_precision("int4")


def test_a_bfloat16_model_records_its_precision_and_explains_its_scores_exactly(
    pretrained, small_catalog_path, tmp_path
):
    model = MovieSearch.build(load_catalog(small_catalog_path), encoder=pretrained, precision="bfloat16")
    loaded = MovieSearch.load(model.save(tmp_path / "half"))
    config = json.loads((tmp_path / "half" / "config.json").read_text())
    assert (config["encoder"]["precision"], config["encoder"]["documents"]) == ("bfloat16", "bfloat16")
    assert loaded.encoder.precision == "bfloat16"
    assert pretrained.precision == "auto"  # the session's encoder was not changed
    without_store = _without_word_store(loaded)
    for query in ["aliens on a ship", "a haunted house"]:
        hits = loaded.search(query, k=5)
        for found in (loaded, without_store):  # stored word vectors, and descriptions encoded again
            explained = found.explain_many(query, [hit.id for hit in hits])
            scores = [explanation.score for explanation in explained]
            assert scores == pytest.approx([hit.score for hit in hits], rel=1e-4)


def test_an_unknown_precision_or_an_older_format_is_refused(small_model, tmp_path):
    directory = small_model.save(tmp_path / "old")
    config = json.loads((directory / "config.json").read_text())
    config["encoder"]["precision"] = "int4"
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="unknown precision 'int4'"):
        MovieSearch.load(directory)
    (directory / "config.json").write_text(json.dumps({**config, "format_version": 1}))
    with pytest.raises(ModelError, match="format 1 was written by an older recsys; rebuild it"):
        MovieSearch.load(directory)


def _without_word_store(model: MovieSearch) -> MovieSearch:
    return replace(model, store=replace(model.store, words=None))


def test_without_a_word_store_explanations_encode_the_descriptions_and_stay_exact(
    pretrained, small_catalog_path, monkeypatch, tmp_path
):
    import recsys.store
    from recsys.catalog import Catalog

    catalog = load_catalog(small_catalog_path)
    monkeypatch.setattr(recsys.store, "WORD_STORE_LIMIT", 10)  # the 14 titles count as a large catalog
    assert MovieSearch.build(catalog, encoder=pretrained, word_store=True).store.words is not None
    model = MovieSearch.load(MovieSearch.build(catalog, encoder=pretrained).save(tmp_path / "large"))
    assert model.store.words is None and not (tmp_path / "large" / "words").exists()
    hits = model.search("aliens on a ship", k=5)
    explained = model.explain_many("aliens on a ship", [hit.id for hit in hits])
    assert [e.score for e in explained] == pytest.approx([hit.score for hit in hits], rel=1e-4)
    first = Catalog(catalog.frame.iloc[:1].reset_index(drop=True), source="new.csv", columns=catalog.columns)
    updated = model.remove(["m1"]).add(first)
    assert updated.store.words is None
    assert {hit.id for hit in updated.search("aliens on a ship", k=5)} == {hit.id for hit in hits}


def test_the_command_line_sets_and_reports_precision_and_word_store(small_catalog_path, tmp_path, capsys):
    from recsys.cli import main

    out = tmp_path / "model"
    args = ["index", str(small_catalog_path), "--out", str(out), "--quiet", "--precision", "float32"]
    assert main([*args, "--word-store", "off"]) == 0
    printed = capsys.readouterr().out
    assert "descriptions encoded in float32 (precision setting: float32)" in printed
    assert "no word store" in printed
    assert MovieSearch.load(out).encoder.precision == "float32"
    with pytest.raises(SystemExit) as exit_info:
        main([*args[:5], "--precision", "int8"])
    assert exit_info.value.code == 2


@pytest.fixture(scope="module")
def disney(external_data, pretrained):
    """Disney+ (1,450 titles) labelled, and indexed without its labels in each precision (no word store)."""
    from benchmarks.quality import without_labels

    labelled = load_catalog(external_data / "streaming" / "disney_plus_titles.csv")
    catalog = without_labels(labelled)
    models = {p: MovieSearch.build(catalog, encoder=pretrained, precision=p, word_store=False)
              for p in ("float32", "bfloat16")}  # fmt: skip
    return labelled, models


@pytest.mark.slow
def test_bfloat16_documents_keep_the_retrieval_quality_of_float32(disney):
    """nDCG@10 on Disney+ of bfloat16 against float32 document encoding.

    The speed of either against sentence-transformers is measured by ``python -m benchmarks.encoding``.
    """
    from benchmarks.quality import engine_ranker, evaluate_systems, query_sets

    labelled, models = disney
    results = evaluate_systems({p: engine_ranker(m) for p, m in models.items()}, query_sets(labelled))
    full, half = results["float32"]["all"]["ndcg@10"], results["bfloat16"]["all"]["ndcg@10"]
    assert abs(half - full) <= 0.01 * full, (full, half)


@pytest.mark.slow
def test_untrained_float32_engine_ranks_as_sentence_transformers_with_faiss(disney, sentence_transformer):
    """On Disney+; ``python -m benchmarks.parity`` measures Netflix and either precision too."""
    from benchmarks.common import netflix_queries
    from benchmarks.parity import top10_overlaps

    model = disney[1]["float32"]
    overlaps = top10_overlaps(model, sentence_transformer, netflix_queries(model.catalog.documents(), 200))
    assert overlaps.mean() >= 0.99, f"mean top-10 overlap {overlaps.mean():.4f}"
