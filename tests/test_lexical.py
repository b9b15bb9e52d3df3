"""The BM25 term: scaled by the most a title could score; live updates tokenise only new documents."""

import numpy as np
import pytest

from recsys.lexical import CORPUS_FILE, LexicalIndex

DOCUMENTS = [
    "Star Harbor. Aliens attack a space station at the edge of the galaxy.",
    "The Quiet Orchard. A farmer falls in love during a long dry summer.",
    "Laugh Track. A wedding in New York goes wrong, then right.",
    "Midnight Hollow. A family moves into a haunted house.",
    "",
    "Iron Frontier. An outlaw rides for gold across the desert.",
    "Deep Signal. Linguists decode the first message from aliens.",
    "Reef Explorers. Divers film the coral reefs of the Pacific ocean.",
    "Clockwork Heist. A crew plans to rob a casino in Monaco.",
    "Robot Summer. A small robot befriends a girl on a farm.",
]
QUERIES = ["aliens in space", "a farm in summer", "casino heist", "haunted house", "ocean", "nothing matches zzz"]


def _never():
    pytest.fail("the documents were tokenised again")


def test_added_and_selected_indexes_score_as_a_rebuild(tmp_path):
    whole = LexicalIndex.build(DOCUMENTS)
    grown = LexicalIndex.build(DOCUMENTS[:6]).added(DOCUMENTS[6:], _never)
    rows = [9, 0, 4, 6, 2]
    kept = whole.selected(rows, _never)
    rebuilt = LexicalIndex.build([DOCUMENTS[row] for row in rows])
    assert "heist" not in kept.vocabulary  # words only removed titles had are gone
    for query in QUERIES:
        np.testing.assert_allclose(grown.scores(query), whole.scores(query), rtol=1e-6)
        np.testing.assert_allclose(kept.scores(query), rebuilt.scores(query), rtol=1e-6)
        assert kept.terms(query) == rebuilt.terms(query)
    grown.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded.corpus == grown.corpus
    again = LexicalIndex.build([*DOCUMENTS, "aliens again"])
    np.testing.assert_allclose(
        loaded.added(["aliens again"], _never).scores("aliens"), again.scores("aliens"), rtol=1e-6
    )


def test_an_index_saved_without_token_ids_is_rebuilt_on_updates(tmp_path):
    LexicalIndex.build(DOCUMENTS).save(tmp_path / "old")
    (tmp_path / "old" / CORPUS_FILE).unlink()
    old = LexicalIndex.load(tmp_path / "old")
    assert old.corpus is None
    grown = old.added(["aliens again"], lambda: [*DOCUMENTS, "aliens again"])
    assert grown.size == len(DOCUMENTS) + 1 and grown.corpus is not None


def test_a_title_matching_one_word_of_a_long_query_gets_a_small_part_of_the_term():
    index = LexicalIndex.build(DOCUMENTS)
    np.testing.assert_allclose(index.scores("a robot befriends a girl").max(), 1.0, rtol=1e-6)  # every word best
    paraphrase = index.scores("a lonely kid makes friends with a machine on her family's farm")
    assert 0 < paraphrase.max() < 0.6  # "farm" and "family" only, each in another title (scaled by its best: 1)
    assert np.all(index.scores("casino heist") <= 1.0) and index.scores("nothing matches zzz").max() == 0.0
    parts = index.term_scores("aliens in space", np.arange(len(DOCUMENTS)))
    np.testing.assert_allclose(sum(parts.values()), index.scores("aliens in space"), rtol=1e-6)
