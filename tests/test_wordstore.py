"""The segmented word store: live updates link unchanged segments, compaction, explanations stay exact."""

import os

import pytest

from recsys import MovieSearch
from recsys.catalog import Catalog


def _exact(model: MovieSearch, query: str) -> None:
    hits = model.search(query, k=5)
    explained = model.explain_many(query, [hit.id for hit in hits])
    assert [e.score for e in explained] == pytest.approx([hit.score for hit in hits], rel=1e-4)
    for explanation, hit in zip(explained, hits, strict=True):
        assert sum(w.share for w in explanation.movie_words) == pytest.approx(explanation.dense, abs=1e-4), hit.id


def test_updates_link_the_saved_segments_and_append_new_ones(small_model, tmp_path):
    directory = small_model.save(tmp_path / "model")
    first = directory / "words" / "segment-0.safetensors"
    inode = first.stat().st_ino
    loaded = MovieSearch.load(directory)
    fewer = loaded.remove(["m2"])
    assert fewer.store.words.stored_words == loaded.store.words.stored_words  # nothing copied, m2's words left unused
    fewer.save(directory)
    assert first.stat().st_ino == inode  # linked, not written again
    frame = small_model.catalog.frame
    back = Catalog(
        frame[frame["id"] == "m2"].reset_index(drop=True), source="m2.csv", columns=small_model.catalog.columns
    )
    grown = MovieSearch.load(directory).add(back)
    grown.save(directory)
    assert sorted(p.name for p in (directory / "words").iterdir()) == [
        "index.safetensors",
        "segment-0.safetensors",
        "segment-1.safetensors",
    ]
    assert first.stat().st_ino == inode
    reloaded = MovieSearch.load(directory)  # every checksum holds
    for query in ["a love story on a farm", "aliens on a ship"]:
        _exact(reloaded, query)
        assert {h.id for h in reloaded.search(query, k=5)} == {h.id for h in small_model.search(query, k=5)}


def test_removing_most_titles_compacts_the_store(small_model):
    kept = small_model.remove([f"m{n}" for n in range(1, 10)])
    assert len(kept.store.words.segments) == 1
    assert kept.store.words.stored_words == int((kept.store.words.end - kept.store.words.start).sum())
    assert kept.store.words.stored_words < small_model.store.words.stored_words / 2
    _exact(kept, "robots and space")


def test_a_segment_file_changed_since_loading_is_written_again(small_model, tmp_path):
    directory = small_model.save(tmp_path / "model")
    loaded = MovieSearch.load(directory)
    segment = directory / "words" / "segment-0.safetensors"
    os.utime(segment, ns=(0, 0))  # as if another save had replaced it
    loaded.save(tmp_path / "copy")
    copied = tmp_path / "copy" / "words" / "segment-0.safetensors"
    assert copied.stat().st_ino != segment.stat().st_ino
    _exact(MovieSearch.load(tmp_path / "copy"), "a haunted house")
