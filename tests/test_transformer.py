import numpy as np
import torch

from recsys.encoding import TextEncoder
from recsys.tokenizer import Tokenizer
from recsys.transformer import Encoder, EncoderConfig


def _tiny():
    torch.manual_seed(0)
    return Encoder(EncoderConfig.tiny()).eval()


def test_attention_maps_are_distributions_that_ignore_padding():
    encoder = _tiny()
    ids = torch.tensor([[101, 2000, 2001, 102], [101, 2002, 102, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    states, maps, _ = encoder(ids, mask, return_attention=True)
    assert states.shape == (2, 4, encoder.dim)
    assert len(maps) == encoder.config.num_layers
    assert maps[0].shape == (2, encoder.config.num_heads, 4, 4)
    torch.testing.assert_close(maps[-1].sum(-1), torch.ones(2, encoder.config.num_heads, 4))
    assert maps[0][1, :, :, 3].abs().max() == 0  # nobody attends to the padding token


def test_embedding_does_not_depend_on_batch_padding():
    text_encoder = TextEncoder(Tokenizer.pretrained(), _tiny())
    alone = text_encoder.embed(["a short one"])
    padded = text_encoder.embed(["a short one", "a much longer text " * 20])[:1]
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def _varied_texts() -> list[str]:
    from recsys.default import DEFAULT_CATALOG
    from recsys.files import load_catalog

    documents = load_catalog(DEFAULT_CATALOG).documents()[:120]
    long_texts = [" ".join(documents[i : i + 12]) for i in range(0, 120, 12)]  # > 256 tokens: truncated
    queries = [
        "sci-fi",
        "90s romantic comedy",
        "sci-fi about first contact with aliens",
        "horror",
        "a",
        "documentary about music",
        "animated series for kids",
        "heist",
        "WWII",
        "film noir détective",
    ]
    odd = [
        "",
        "   ",
        "\t\n",
        "Amélie à Montmartre, café crème",
        "Ça va? Señor Niño — über naïve",
        "🎬🍿 movie night 👽🚀",
        "東京の夜",
        "Москва слезам не верит",
        "مهرجان",
        "x" * 3000,
        "!!!???...",
        "\u200b\u200b",
        "ALL CAPS TITLE",
        "tab\tseparated\twords",
        "e\u0301le\u0300ve",
        "1984",
        "R2-D2 & C-3PO",
    ]
    return documents + long_texts + queries + odd + [d.upper() for d in documents[:70]]


def test_minilm_reproduces_sentence_transformers(pretrained, sentence_transformer):
    texts = _varied_texts()
    assert len(texts) >= 200
    ours = pretrained.embed(texts)
    reference = sentence_transformer.encode(texts, batch_size=32, normalize_embeddings=True)
    cosine = (ours * reference).sum(1)
    assert cosine.min() >= 0.9999, texts[int(cosine.argmin())][:80]


def test_rollout_rows_are_distributions_over_the_real_tokens():
    encoder = _tiny()
    ids = torch.tensor([[101, 2000, 2001, 102], [101, 2002, 102, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    with torch.inference_mode():
        output = encoder(ids, mask, return_rollout=True)
        plain = encoder(ids, mask).states
    torch.testing.assert_close(output.states, plain)  # asking for the rollout changes nothing else
    torch.testing.assert_close(output.rollout[0].sum(-1), torch.ones(4))
    assert output.rollout[1, :3, 3].abs().max() < 1e-6  # nothing comes from the padding
