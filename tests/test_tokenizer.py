from recsys.tokenizer import Tokenizer, word_spans


def test_word_ids_and_offsets_map_pieces_back_to_words():
    tokenizer = Tokenizer.pretrained()
    text = "Extraterrestrials invade"
    batch = tokenizer.encode([text])
    words = batch.word_ids[0]
    assert words[0] is None and words[-1] is None  # [CLS] and [SEP]
    pieces_of_first_word = [i for i, w in enumerate(words) if w == 0]
    assert len(pieces_of_first_word) > 1  # "extraterrestrials" is split into word pieces
    start = batch.offsets[0][pieces_of_first_word[0]][0]
    end = batch.offsets[0][pieces_of_first_word[-1]][1]
    assert text[start:end] == "Extraterrestrials"


def test_truncates_to_256_tokens_like_sentence_transformers():
    tokenizer = Tokenizer.pretrained()
    batch = tokenizer.encode(["word " * 1000, "short"])
    assert batch.input_ids.shape == (2, 256)
    assert batch.attention_mask[1].sum() == 3
    assert batch.input_ids[0, -1] == tokenizer.backend.token_to_id("[SEP]")


def test_trained_vocabulary_handles_any_language(tmp_path):
    texts = ["Ein Pianist verliebt sich in Paris.", "東京の夜、二人は出会う。", "Uma história de amor no Rio."] * 20
    tokenizer = Tokenizer.train(texts, vocab_size=300)
    batch = tokenizer.encode(["東京の夜"])
    assert tokenizer.backend.token_to_id("[UNK]") not in batch.input_ids[0].tolist()
    tokenizer.save(tmp_path / "tokenizer.json")
    again = Tokenizer.from_file(tmp_path / "tokenizer.json")
    assert again.encode(texts[:3]).input_ids.tolist() == tokenizer.encode(texts[:3]).input_ids.tolist()


def test_words_are_what_a_reader_calls_words():
    text = "2001: A Space Odyssey (1968). Muriel's sci-fi wedding!"
    batch = Tokenizer.pretrained().encode([text])
    spans = word_spans(batch.word_ids[0], batch.offsets[0])
    words = [text[start:end] for start, end in spans.values()]
    assert words == ["2001", ":", "A", "Space", "Odyssey", "(", "1968", ")", ".", "Muriel's", "sci-fi", "wedding", "!"]
    assert sorted(spans) == list(range(len(spans)))
