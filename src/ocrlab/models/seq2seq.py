"""CNN encoder + Transformer decoder that spells the text in an image, token by token.

The design of "Breaking CAPTCHA": a CNN turns the image into a feature map, flattened into a
sequence with positional embeddings (the "memory"); a Transformer decoder reads the text so far
through masked self-attention (a causal mask so no token sees its future, and a padding mask so none
attends to `<pad>`), attends to the memory through cross-attention, and predicts the next character.
The loss is masked at padding (see `SequenceTask`). Decoding runs a fixed number of steps, so the
whole greedy loop exports to ONNX.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ocrlab.charset import BOS, EOS, PAD


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class ConvEncoder(nn.Module):
    """(B, C, H, W) → (B, S, D) memory: four conv stages, height ÷16, width ÷8, 2-D positions."""

    POOLS = ((2, 2), (2, 2), (2, 2), (2, 1))

    def __init__(
        self, in_channels: int, channels: tuple[int, ...], d_model: int, input_size: tuple[int, int]
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for cout, pool in zip(channels, self.POOLS, strict=True):
            layers += [_conv(cin, cout), _conv(cout, cout), nn.MaxPool2d(pool, pool)]
            cin = cout
        self.cnn = nn.Sequential(*layers)
        self.proj = nn.Linear(cin, d_model)
        h, w = input_size[0] // 16, input_size[1] // 8
        if h < 1 or w < 1:
            raise ValueError(f"input {input_size} is too small: need at least 16 x 8 pixels")
        self.grid = (h, w)
        self.row = nn.Parameter(torch.randn(h, 1, d_model) * 0.02)
        self.col = nn.Parameter(torch.randn(1, w, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.cnn(x)  # (B, C', h, w)
        f = self.proj(f.permute(0, 2, 3, 1))  # (B, h, w, D)
        f = f + self.row + self.col  # 2-D positional embedding
        return f.flatten(1, 2)  # (B, h·w, D)


class Seq2Seq(nn.Module):
    """Image → text; `forward` is the teacher-forced pass used for training."""

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        input_size: tuple[int, int],
        in_channels: int = 3,
        channels: tuple[int, ...] = (64, 128, 256, 256),
        d_model: int = 256,
        heads: int = 8,
        layers: int = 3,
        ff: int = 1024,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.max_len, self.vocab_size = max_len, vocab_size
        self.encoder = ConvEncoder(in_channels, tuple(channels), d_model, input_size)
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(max_len + 2, d_model) * 0.02)
        layer = nn.TransformerDecoderLayer(
            d_model, heads, ff, dropout, batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)
        self.ctc = nn.Linear(d_model, vocab_size)

    def decode(self, tokens: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(B, T) tokens so far and (B, S, D) memory → (B, T, V) next-token logits."""
        t = tokens.shape[1]
        x = self.embed(tokens) + self.pos[:t]  # (B, T, D)
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=tokens.device), 1)
        padding = tokens == PAD  # (B, T): never attend to <pad>
        y = self.decoder(
            x, memory, tgt_mask=causal, tgt_key_padding_mask=padding, tgt_is_causal=False
        )
        return self.head(y)

    def ctc_logits(self, memory: torch.Tensor) -> torch.Tensor:
        """(B, h·w, D) memory → (B, w, V) per-column logits, `<pad>` as the CTC blank.

        Training only: an auxiliary CTC loss on the encoder (joint CTC-attention, Kim et al. 2017)
        teaches it left-to-right alignment early, so the decoder's cross-attention converges in
        a fraction of the steps it needs alone.
        """
        h, w = self.encoder.grid
        return self.ctc(memory.reshape(memory.shape[0], h, w, -1).mean(dim=1))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) images, (B, T) input tokens (`<bos>` …) → (B, T, V) logits."""
        return self.decode(tokens, self.encoder(images))

    def greedy(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed-length greedy decoding: (B, max_len + 1) tokens and their probabilities.

        Always runs max_len + 1 steps (no early exit), so the loop unrolls into an ONNX graph.
        """
        memory = self.encoder(images)
        tokens = torch.full((images.shape[0], 1), BOS, dtype=torch.long, device=images.device)
        probs = []
        for _ in range(self.max_len + 1):
            p = F.softmax(self.decode(tokens, memory)[:, -1].float(), dim=-1)  # (B, V)
            best_p, best = p.max(dim=-1)
            tokens = torch.cat([tokens, best[:, None]], dim=1)
            probs.append(best_p)
        return tokens[:, 1:], torch.stack(probs, dim=1)

    @torch.no_grad()
    def beam(self, images: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Beam search: (B, k, max_len + 1) tokens and (B, k) log-probabilities, best first."""
        b, steps = images.shape[0], self.max_len + 1
        memory = self.encoder(images).repeat_interleave(k, dim=0)  # (B·k, S, D)
        tokens = torch.full((b * k, 1), BOS, dtype=torch.long, device=images.device)
        scores = torch.full((b, k), -torch.inf, device=images.device)
        scores[:, 0] = 0.0  # one live beam at the start, so the k beams never start equal
        done = torch.zeros(b * k, dtype=torch.bool, device=images.device)
        for _ in range(steps):
            logp = F.log_softmax(self.decode(tokens, memory)[:, -1].float(), dim=-1)  # (B·k, V)
            frozen = torch.full_like(logp, -torch.inf)
            frozen[:, PAD] = 0.0  # a finished beam only extends with <pad>, at no cost
            logp = torch.where(done[:, None], frozen, logp)
            total = (scores.reshape(-1, 1) + logp).reshape(b, -1)  # (B, k·V)
            scores, flat = total.topk(k, dim=-1)
            origin = flat // self.vocab_size + torch.arange(b, device=images.device)[:, None] * k
            nxt = (flat % self.vocab_size).reshape(-1, 1)
            tokens = torch.cat([tokens[origin.reshape(-1)], nxt], dim=1)
            done = done[origin.reshape(-1)] | (nxt[:, 0] == EOS) | (nxt[:, 0] == PAD)
        return tokens[:, 1:].reshape(b, k, steps), scores


def seq2seq(
    vocab_size: int,
    max_len: int,
    input_size: list[int],
    in_channels: int = 3,
    channels: list[int] | None = None,
    d_model: int = 256,
    heads: int = 8,
    layers: int = 3,
    ff: int = 1024,
    dropout: float = 0.1,
) -> Seq2Seq:
    return Seq2Seq(
        vocab_size,
        max_len,
        (input_size[0], input_size[1]),
        in_channels,
        tuple(channels or (64, 128, 256, 256)),
        d_model,
        heads,
        layers,
        ff,
        dropout,
    )
