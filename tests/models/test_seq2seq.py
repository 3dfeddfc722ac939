from __future__ import annotations

import pytest
import torch

from ocrlab.charset import BOS, EOS, PAD
from ocrlab.models import build
from ocrlab.models.seq2seq import Seq2Seq
from ocrlab.train.sequence import SequenceTask, exact


@pytest.fixture(scope="module")
def model() -> Seq2Seq:
    torch.manual_seed(0)
    m = build(
        "seq2seq",
        vocab_size=10,
        max_len=5,
        input_size=[32, 64],
        channels=[8, 8, 16, 16],
        d_model=32,
        heads=4,
        layers=2,
        ff=64,
        dropout=0.0,
    )
    assert isinstance(m, Seq2Seq)
    return m.eval()


def test_causal_mask_hides_the_future(model: Seq2Seq) -> None:
    x = torch.randn(1, 3, 32, 64)
    a = torch.tensor([[BOS, 4, 5, 6, 7]])
    b = torch.tensor([[BOS, 4, 5, 9, 8]])
    la, lb = model(x, a), model(x, b)
    assert torch.allclose(la[:, :3], lb[:, :3], atol=1e-5)  # positions 0-2 never see 3 and 4
    assert not torch.allclose(la[:, 3:], lb[:, 3:], atol=1e-5)


def test_padding_never_changes_real_positions(model: Seq2Seq) -> None:
    x = torch.randn(1, 3, 32, 64)
    short = model(x, torch.tensor([[BOS, 4, 5, PAD, PAD]]))
    other = model(x, torch.tensor([[BOS, 4, 5, PAD, PAD]]))
    assert torch.allclose(short, other)
    assert torch.isfinite(short).all()


def test_loss_ignores_padding_targets(model: Seq2Seq) -> None:
    """The masked loss equals cross-entropy over the non-pad targets alone (dropout is 0)."""
    x = torch.randn(2, 3, 32, 64)
    y = torch.tensor([[BOS, 4, EOS, PAD, PAD, PAD, PAD], [BOS, 5, 6, 7, EOS, PAD, PAD]])
    with torch.no_grad():
        loss, _, n = SequenceTask().loss(model, x, y)
        logits, target = model(x, y[:, :-1]), y[:, 1:]
        mask = target != PAD
        manual = torch.nn.functional.cross_entropy(logits[mask], target[mask])
    assert n == 2 and float(loss) == pytest.approx(float(manual), rel=1e-4)


def test_exact_ignores_positions_after_eos() -> None:
    target = torch.tensor([[4, EOS, PAD], [4, 5, EOS]])
    pred = torch.tensor([[4, EOS, 9], [4, 6, EOS]])
    assert exact(pred, target).tolist() == [True, False]


def test_greedy_has_fixed_length_and_beam_of_one_agrees(model: Seq2Seq) -> None:
    x = torch.randn(3, 3, 32, 64)
    tokens, probs = model.greedy(x)
    assert tokens.shape == probs.shape == (3, 6)
    assert ((probs > 0) & (probs <= 1)).all()
    beams, scores = model.beam(x, 1)
    first_eos = [row.tolist().index(EOS) if EOS in row.tolist() else 6 for row in tokens]
    for i, stop in enumerate(first_eos):
        assert beams[i, 0, : stop + 1].tolist() == tokens[i, : stop + 1].tolist()
    wide, wide_scores = model.beam(x, 4)
    assert wide.shape == (3, 4, 6) and (wide_scores[:, :-1] >= wide_scores[:, 1:]).all()
    assert (wide_scores[:, 0] >= scores[:, 0] - 1e-5).all()
