import json

import numpy as np
import pytest

from recsys import CatalogError, MovieSearch, QueryError, load_catalog
from recsys.errors import ModelError
from recsys.scoring import Scorer


def test_search_ranks_by_meaning(small_model):
    hits = small_model.search("aliens in outer space", k=3)
    assert "Science Fiction" in hits[0].genres
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert np.isclose(sum(h.weight for h in hits), 1.0)
    assert small_model.search("a haunted farmhouse", k=1)[0].id == "m4"


def test_untrained_scores_are_cosine_similarities(small_model, pretrained):
    hits = small_model.search("robots and space", k=14)
    query = pretrained.embed(["robots and space"])[0]
    embedded = pretrained.embed(small_model.catalog.documents(), documents=True)
    documents = dict(zip(small_model.catalog.ids, embedded, strict=True))
    for hit in hits:
        assert hit.score == pytest.approx(float(documents[hit.id] @ query), abs=1e-5)


def test_filters(small_model):
    assert {h.id for h in small_model.search("anything at all", k=10, genres=["Science Fiction"])} == {
        "m1",
        "m6",
        "m14",
    }
    assert all(1980 <= h.year <= 1999 for h in small_model.search("love", k=10, years=(1980, 1999)))
    assert {h.id for h in small_model.search("crime", k=10, kind="series")} == {"m8", "m11"}
    assert small_model.search("love", k=5, genres=["No Such Genre"]) == []


def test_empty_queries_and_bad_k_are_refused(small_model):
    for query in ["", "   \n"]:
        with pytest.raises(QueryError, match="empty"):
            small_model.search(query)
    with pytest.raises(QueryError, match="k must be"):
        small_model.search("space", k=0)


def test_save_then_load_gives_the_same_results(small_model, tmp_path):
    directory = small_model.save(tmp_path / "model")
    assert sorted(p.name for p in directory.iterdir()) == [
        "catalog.parquet",
        "config.json",
        "embeddings.safetensors",
        "encoder",
        "head.safetensors",
        "keys.faiss",
        "lexical",
        "metrics.json",
        "words",
    ]
    assert sorted(p.name for p in (directory / "encoder").iterdir()) == ["tokenizer.json"]  # pretrained weights
    assert not any(p.suffix in (".pkl", ".pt", ".bin", ".pickle") for p in directory.rglob("*"))
    loaded = MovieSearch.load(directory)
    for query in ["aliens", "a wedding in new york", "war"]:
        assert loaded.search(query, k=5) == small_model.search(query, k=5)
    config = json.loads((directory / "config.json").read_text())
    assert config["encoder"]["weights"]["pretrained"] == "all-MiniLM-L6-v2"
    assert config["catalog"]["fingerprint"] == small_model.catalog.fingerprint()
    assert config["libraries"]["torch"]


def test_tiny_encoder_model_saves_its_own_weights(small_catalog_path, tmp_path):
    model = MovieSearch.build(load_catalog(small_catalog_path), encoder="tiny")
    model.save(tmp_path / "tiny")
    assert (tmp_path / "tiny" / "encoder" / "weights.safetensors").is_file()
    loaded = MovieSearch.load(tmp_path / "tiny")
    assert loaded.search("gold in the desert", k=4) == model.search("gold in the desert", k=4)


def test_a_failed_save_leaves_the_previous_model(small_model, tmp_path, monkeypatch):
    directory = small_model.save(tmp_path / "model")
    before = MovieSearch.load(directory).search("aliens", k=3)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("recsys.index.KeyStore.save", broken)
    with pytest.raises(OSError, match="disk full"):
        small_model.save(directory)
    assert MovieSearch.load(directory).search("aliens", k=3) == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no half-written directory left behind


def test_a_changed_file_or_newer_format_is_refused(small_model, tmp_path):
    directory = small_model.save(tmp_path / "model")
    with open(directory / "keys.faiss", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="keys.faiss: checksum does not match"):
        MovieSearch.load(directory)
    directory = small_model.save(tmp_path / "model")
    config = json.loads((directory / "config.json").read_text())
    config["format_version"] = 99
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="newer than this recsys reads"):
        MovieSearch.load(directory)
    with pytest.raises(ModelError, match="not a recsys model directory"):
        MovieSearch.load(tmp_path / "nowhere")


def test_build_from_a_base_model_reuses_its_head(small_model, small_catalog_path):
    other = MovieSearch.build(load_catalog(small_catalog_path), base=small_model)
    assert other.scorer.head is small_model.scorer.head
    assert other.search("aliens", k=3) == small_model.search("aliens", k=3)


def test_an_hnsw_key_store_gives_the_flat_results_on_a_small_catalog(small_model, small_catalog_path, tmp_path):
    from dataclasses import replace

    graph = MovieSearch.build(load_catalog(small_catalog_path), encoder=small_model.encoder, index="hnsw-sq8")
    assert graph.store.keys.kind == "hnsw-sq8" and small_model.store.keys.kind == "flat"
    queries = ["aliens on a ship", "a wedding", "war", "ghost in a house"]
    for query in queries:
        assert [h.id for h in graph.search(query, k=5)] == [h.id for h in small_model.search(query, k=5)]
    # With the BM25 term on, the graph proposes candidates and each is rescored exactly.
    settings = replace(small_model.scorer.settings, lexical_weight=0.3)
    flat, hnsw = (
        small_model.with_scorer(Scorer(small_model.scorer.head, settings)),
        graph.with_scorer(Scorer(graph.scorer.head, settings)),
    )
    assert hnsw.store.keys.kind == "hnsw-sq8"
    for query in queries:
        found, expected = hnsw.search(query, k=5), flat.search(query, k=5)
        assert [h.id for h in found] == [h.id for h in expected]
        assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=1e-5)
    loaded = MovieSearch.load(hnsw.save(tmp_path / "graph"))
    assert loaded.store.keys.describe() == hnsw.store.keys.describe()
    assert loaded.recommend(["m1"], k=3) == hnsw.recommend(["m1"], k=3)


def test_an_hnsw_key_store_with_a_selective_filter_returns_what_exact_search_does(
    small_model, small_catalog_path, monkeypatch
):
    import recsys.store
    from recsys.index import Neighbours

    graph = MovieSearch.build(load_catalog(small_catalog_path), encoder=small_model.encoder, index="hnsw-sq8")
    filters = [{"genres": ["Drama"]}, {"kind": "series"}, {"years": (1960, 1985)}, {"genres": ["Western"]}]

    def same(query: str, k: int) -> None:
        for chosen in filters:
            found, expected = graph.search(query, k=k, **chosen), small_model.search(query, k=k, **chosen)
            assert [h.id for h in found] == [h.id for h in expected], chosen
            assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=1e-5)

    same("a love story", 4)  # few titles pass: every one is scored
    monkeypatch.setattr(recsys.store, "FILTERED_SCAN", 0)
    same("a love story", 4)  # the graph searches with the filter
    nothing = Neighbours([np.empty(0, np.float32)], [np.empty(0, np.int64)])
    monkeypatch.setattr(graph.store.keys, "search", lambda *args, **kwargs: nothing)
    same("a love story", 4)  # the graph found too few: every allowed title is scored


def test_adding_and_removing_titles_equals_a_full_rebuild(small_model, small_catalog_path, tmp_path, capsys):
    from recsys.catalog import Catalog
    from recsys.cli import main

    catalog = load_catalog(small_catalog_path)
    first, rest = catalog.frame.iloc[:9], catalog.frame.iloc[9:]
    rest_path = tmp_path / "rest.csv"
    rest.assign(genres=rest["genres"].map("|".join), keywords=rest["keywords"].map("|".join)).to_csv(rest_path)
    base = MovieSearch.build(Catalog(first.reset_index(drop=True)), encoder=small_model.encoder)
    directory = base.save(tmp_path / "model")
    assert main(["add", str(directory), str(rest_path), "--quiet"]) == 0
    assert main(["remove", str(directory), "m10", "m3"]) == 0
    assert "removed 2 titles" in capsys.readouterr().out
    updated = MovieSearch.load(directory)
    kept = catalog.frame[~catalog.frame["id"].isin(["m10", "m3"])].reset_index(drop=True)
    rebuilt = MovieSearch.build(Catalog(kept), encoder=small_model.encoder)
    assert updated.catalog.ids == rebuilt.catalog.ids and len(updated.store.keys) == len(updated.store.words) == 12
    # bfloat16 documents encoded in other batches may differ in the 4th digit on CPUs whose kernels follow the
    # batch's shape (Intel AMX); float32 ones are identical
    tolerance = 1e-5 if small_model.encoder.document_precision == "float32" else 1e-3
    for query in ["aliens on a ship", "a wedding", "dance battle", "war", "haunted"]:
        found, expected = updated.search(query, k=5), rebuilt.search(query, k=5)
        assert [h.id for h in found] == [h.id for h in expected]
        assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=tolerance)
    assert updated.explain("a wedding", movie_id="m2").score == pytest.approx(
        rebuilt.explain("a wedding", movie_id="m2").score, abs=tolerance
    )
    assert updated.search("aliens", k=3, genres=["Horror"])  # filters still work
    with pytest.raises(CatalogError, match="already in the model"):
        updated.add(Catalog(kept.iloc[:1]))
    with pytest.raises(QueryError, match="no title with id 'm3'"):
        updated.remove(["m3"])
