import numpy as np
import torch

from recsys.head import AttentionHead, HeadConfig


def _embeddings(n, dim=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, dim, generator=generator), dim=-1)


def test_untrained_score_is_cosine_similarity():
    head = AttentionHead(HeadConfig(dim=32, num_heads=8))
    queries, movies = _embeddings(5, seed=1), _embeddings(40, seed=2)
    scores = head.queries(queries) @ head.keys(movies).T
    torch.testing.assert_close(scores, queries @ movies.T, rtol=1e-6, atol=1e-6)


def test_flat_inner_product_equals_the_sum_over_heads():
    torch.manual_seed(3)
    config = HeadConfig(dim=32, num_heads=4)
    head = AttentionHead(config)
    with torch.no_grad():  # a "trained" head: arbitrary projections and head weights, some negative
        for layer in (head.query, head.key):
            layer.weight.normal_()
        head.head_weights.copy_(torch.tensor([0.5, -1.0, 2.0, 0.1]))
    query, movies = _embeddings(1, seed=4), _embeddings(10, seed=5)
    q = head.query(query).view(config.num_heads, config.head_size)  # (H, dk)
    k = head.key(movies).view(10, config.num_heads, config.head_size)  # (N, H, dk)
    per_head = torch.einsum("hd,nhd->nh", q, k) / config.head_size**0.5  # (N, H)
    expected = (per_head * head.head_weights).sum(-1)
    flat = (head.queries(query) @ head.keys(movies).T)[0]
    torch.testing.assert_close(flat, expected, rtol=1e-5, atol=1e-5)
    bilinear = query @ head.bilinear() @ movies.T
    torch.testing.assert_close(bilinear[0], expected, rtol=1e-5, atol=1e-5)


def test_attention_output_is_the_weighted_sum_of_values():
    head = AttentionHead(HeadConfig(dim=16, num_heads=2, temperature=0.1))
    movies = _embeddings(6, dim=16)
    scores = torch.tensor([[0.9, 0.1, 0.5, -0.2, 0.3, 0.0]])
    weights, output = head.attention_weights(scores, head.values(movies))
    assert np.isclose(weights.sum().item(), 1.0)
    assert weights.argmax().item() == 0
    torch.testing.assert_close(output, weights @ movies)


def test_averaged_heads_score_the_mean_of_the_heads_scores():
    from recsys.fitting import averaged_heads

    torch.manual_seed(5)
    heads = []
    for _ in range(3):  # "trained" heads: arbitrary projections, head weights and temperatures
        head = AttentionHead(HeadConfig(dim=32, num_heads=4))
        with torch.no_grad():
            for layer in (head.query, head.key):
                layer.weight.add_(0.3 * torch.randn(32, 32))
            head.head_weights.mul_(torch.rand(4) + 0.5)
            head.log_temperature.add_(torch.randn(()))
        heads.append(head)
    averaged = averaged_heads(heads)
    queries, movies = _embeddings(5, seed=6), _embeddings(40, seed=7)
    with torch.no_grad():
        expected = sum(head.queries(queries) @ head.keys(movies).T for head in heads) / 3
        torch.testing.assert_close(averaged.queries(queries) @ averaged.keys(movies).T, expected, rtol=1e-5, atol=1e-5)
        temperatures = torch.stack([head.temperature for head in heads])
        torch.testing.assert_close(averaged.temperature, temperatures.log().mean().exp())
    assert averaged_heads(heads[:1]) is heads[0]
