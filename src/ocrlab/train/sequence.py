"""Train the sequence recogniser (CNN encoder + Transformer decoder) on any labelled images.

Targets are the texts as drawn, case preserved. Input = tokens[:-1], target = tokens[1:] (teacher
forcing); the per-token loss is multiplied by the padding mask before the reduction, so `<pad>`
never counts. Test accuracy is exact match of real greedy decoding, not of teacher forcing. For
open vocabulary the split is by word (`split="word"`): no test word is ever seen in training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ocrlab.charset import EOS, PAD, Charset, Tokenizer
from ocrlab.config import to_dict
from ocrlab.data.load import ImageSet, load_many
from ocrlab.data.split import limit_rows, text_split
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.models.seq2seq import Seq2Seq
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.preprocess import PREPROCESS
from ocrlab.runtime.shipped import run_folder
from ocrlab.train.batches import DeviceBatches, train_test_batches
from ocrlab.train.charset_rows import carry_rows
from ocrlab.train.loop import Callback, Run, Task, TrainConfig
from ocrlab.train.skeleton import metrics, run_job


@dataclass(frozen=True)
class SeqConfig:
    """A sequence recogniser: architecture, charset, input, split and training settings."""

    channels: tuple[int, ...] = (64, 128, 256, 256)
    d_model: int = 256
    heads: int = 8
    layers: int = 3
    ff: int = 1024
    dropout: float = 0.1
    charset: str = "auto"
    """A named charset (alnum, lower, ...), literal characters, or 'auto' (those in the data)."""
    max_len: int = 0
    """Longest text the model reads (0: the longest label in the data)."""
    input_height: int | None = None
    input_width: int | None = None
    grayscale: bool = False
    split: Literal["word", "random"] = "word"
    test_fraction: float = 0.1
    limit: int | None = None
    workers: int = 1
    ctc_weight: float = 0.3
    """Weight of the encoder's auxiliary CTC loss in training (0 turns it off)."""
    init: str | None = None
    """Weights that start training (fine-tuning): a shipped name (default, words, captcha) or a
    run folder; its architecture, input size and mode win. Its charset grows by the labels' new
    characters (fresh rows; known ones keep theirs), unless `charset` names another."""
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if (self.input_height is None) != (self.input_width is None):
            raise ConfigError("give both input_height and input_width, or neither")
        if len(self.channels) != 4 or self.d_model % self.heads:
            raise ConfigError("channels needs 4 stages and d_model must divide by heads")
        if self.init is not None and self.init.lower().endswith(".onnx"):
            raise ConfigError(
                f"--init {self.init}: a sequence model's export unrolls its decoder, so it cannot "
                "be trained further; give the run folder it was exported from"
            )


_SMALL = SeqConfig(channels=(32, 64, 128, 128), d_model=128, heads=4, layers=2, ff=512)
PRESETS: dict[str, SeqConfig] = {
    "quick": dataclasses.replace(  # narrow early stages: 3x faster on a CPU, as wide at the top
        _SMALL,
        channels=(16, 32, 64, 128),
        input_height=32,
        input_width=224,
        ctc_weight=0.5,  # with no warps, 91.5 % on unseen words in 16 min on 2 cores (README)
        train=TrainConfig(
            epochs=9, batch_size=64, lr=2e-3, weight_decay=0.05, augment=False, cpu_amp="auto"
        ),
    ),
    "full": SeqConfig(train=TrainConfig(epochs=30, batch_size=256, lr=1e-3)),
    "captcha": dataclasses.replace(
        _SMALL,
        split="random",
        grayscale=True,
        ctc_weight=0.0,  # the measured recipe (README); 936 images converge without it
        input_height=32,
        input_width=128,
        train=TrainConfig(epochs=80, batch_size=32, lr=1e-3, weight_decay=0.05),
    ),
}


class SequenceTask:
    """Masked token cross-entropy (plus, in training, `ctc_weight` × the encoder's CTC loss);
    in eval mode, correct = exact match of greedy decoding."""

    def __init__(self, label_smoothing: float = 0.0, ctc_weight: float = 0.0) -> None:
        self.label_smoothing, self.ctc_weight = label_smoothing, ctc_weight

    def loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, int, int]:
        assert isinstance(model, Seq2Seq)
        memory = model.encoder(x)
        logits = model.decode(y[:, :-1], memory)  # (B, T-1, V)
        target = y[:, 1:]  # (B, T-1)
        mask = (target != PAD).float()
        per_token = F.cross_entropy(
            logits.transpose(1, 2).float(),
            target,
            reduction="none",
            label_smoothing=self.label_smoothing,
        )
        loss = (per_token * mask).sum() / mask.sum()
        if model.training and self.ctc_weight > 0:
            ctc = ctc_loss(model.ctc_logits(memory), target)
            loss = (1 - self.ctc_weight) * loss + self.ctc_weight * ctc
        pred = logits.argmax(-1) if model.training else model.greedy(x)[0]
        return loss, int(exact(pred, target).sum()), len(y)


def ctc_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CTC loss of (B, W, V) column logits against (B, T) targets (`<eos>`/`<pad>` ignored)."""
    chars = (target != PAD) & (target != EOS)  # (B, T)
    log_probs = F.log_softmax(logits.float(), dim=-1).transpose(0, 1)  # (W, B, V)
    widths = torch.full((len(target),), logits.shape[1], dtype=torch.long)
    return F.ctc_loss(
        log_probs, target[chars], widths, chars.sum(1).cpu(), blank=PAD, zero_infinity=True
    )


def exact(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) bool: every non-pad target token predicted (positions after `<eos>` ignored)."""
    return ((pred == target) | (target == PAD)).all(dim=1)


def _charset(spec: str, texts: Sequence[str], start: str = "") -> Charset:
    """Named charsets or the literal characters (`Charset.parse`); 'auto': the characters of
    `start` (the charset fine-tuning starts from), then those the texts add."""
    if spec != "auto":
        return Charset.parse(spec)
    if start:
        return Charset(start + Charset(start).missing(texts))
    return Charset.from_texts(texts)


def _resolve(cfg: SeqConfig, data: ImageSet) -> tuple[Tokenizer, dict[str, object]]:
    """The tokenizer and model config: from `cfg.init`'s checkpoint (its charset extended by the
    labels' new characters, or the one `cfg.charset` names), else from cfg and the data."""
    if cfg.init is not None:
        init = checkpoint.load_checkpoint(run_folder(cfg.init))
        if init.kind != "seq":
            raise DatasetError(f"--init {cfg.init} is a {init.kind} model, not a sequence model")
        charset = _charset(cfg.charset, data.texts, init.charset)
        config = {**init.model_config, "vocab_size": charset.size}
        return Tokenizer(charset, init.max_len), config
    charset = _charset(cfg.charset, data.texts)
    tokenizer = Tokenizer(charset, cfg.max_len or max(len(t) for t in data.texts))
    model_config = {
        "vocab_size": charset.size,
        "max_len": tokenizer.max_len,
        "input_size": list(data.images.shape[1:3]),
        "in_channels": data.images.shape[-1],
        "channels": list(cfg.channels),
        "d_model": cfg.d_model,
        "heads": cfg.heads,
        "layers": cfg.layers,
        "ff": cfg.ff,
        "dropout": cfg.dropout,
    }
    return tokenizer, model_config


TOKEN_ROWS = ("embed.weight", "head.weight", "head.bias", "ctc.weight", "ctc.bias")
"""The sequence model's layers indexed by token: its embedding, output layer and CTC head."""


def _start(run: Path, model: nn.Module, charset: str) -> nn.Module:
    """`model` (of `charset`) holding the weights of the sequence model in `run`: every layer as
    trained, and in the token-indexed ones the rows of every character both charsets spell."""
    ckpt = checkpoint.load_checkpoint(run)
    start = checkpoint.load_model(run, ckpt, lambda: build("seq2seq", **ckpt.model_config))
    state = {k: v for k, v in start.state_dict().items() if k not in TOKEN_ROWS}
    model.load_state_dict({**state, **carry_rows(start, model, TOKEN_ROWS, ckpt.charset, charset)})
    return model


def load_seq_data(dirs: Sequence[Path], cfg: SeqConfig) -> ImageSet:
    """Images at the model's input size and channels (those of `cfg.init` when fine-tuning)."""
    size = None if cfg.input_height is None else (cfg.input_height, cfg.input_width or 0)
    mode = "L" if cfg.grayscale else "RGB"
    if cfg.init is not None:
        init = checkpoint.load_checkpoint(run_folder(cfg.init))
        size, mode = init.input_size, init.mode
    data = load_many(list(dirs), size, workers=cfg.workers, mode=mode, prepare=PREPROCESS["seq"])
    return data.subset(limit_rows(len(data), cfg.limit, cfg.train.seed))


def split_seq(data: ImageSet, cfg: SeqConfig) -> tuple[np.ndarray, np.ndarray]:
    return text_split(data.texts, cfg.split, cfg.test_fraction, cfg.train.seed)


Loaded = tuple[ImageSet, Tokenizer, dict[str, object], np.ndarray]
"""Images, the tokenizer, the model config and the (N, max_len + 2) token targets."""
Parts = tuple[np.ndarray, np.ndarray]


class SequenceJob:
    """The sequence recogniser's steps of the training skeleton (`ocrlab.train.skeleton`)."""

    def __init__(self, dirs: Sequence[Path], cfg: SeqConfig) -> None:
        self.dirs, self.cfg, self.train = list(dirs), cfg, cfg.train
        self.description: dict[str, Any] = {"data": [str(d) for d in dirs], "config": to_dict(cfg)}
        self.task: Task = SequenceTask(cfg.train.label_smoothing, cfg.ctc_weight)

    def load(self) -> Loaded:
        data = load_seq_data(self.dirs, self.cfg)
        tokenizer, model_config = _resolve(self.cfg, data)
        tokens = np.array(tokenizer.encode_batch(data.texts), dtype=np.int64)
        return data, tokenizer, model_config, tokens

    def split(self, loaded: Loaded) -> Parts:
        return split_seq(loaded[0], self.cfg)

    def build(self, loaded: Loaded, parts: Parts) -> tuple[nn.Module, Checkpoint]:
        data, tokenizer, model_config, _ = loaded
        cfg, (train_idx, test_idx) = self.cfg, parts
        model = build("seq2seq", **model_config)
        if cfg.init is not None:
            model = _start(run_folder(cfg.init), model, tokenizer.charset.chars)
        ckpt = Checkpoint(
            kind="seq",
            model="seq2seq",
            model_config=dict(model_config),
            charset=tokenizer.charset.chars,
            max_len=tokenizer.max_len,
            input_size=(data.images.shape[1], data.images.shape[2]),
            channels=int(data.images.shape[-1]),
            data=self.description["data"],
            config=to_dict(cfg),
            split={
                "kind": cfg.split,
                "train": len(train_idx),
                "test": len(test_idx),
                "test_words": sorted({data.texts[i].lower() for i in test_idx})[:2000],
            },
            title=f"seq2seq on {len(train_idx):,} images ({cfg.split} split)",
        )
        return model, ckpt

    def batches(
        self, loaded: Loaded, parts: Parts, device: torch.device
    ) -> tuple[DeviceBatches, DeviceBatches]:
        t = self.train
        return train_test_batches(
            loaded[0].images, loaded[3], parts, device, t.batch_size, t.seed, t.augment
        )

    def finish(
        self, run: Run, loaded: Loaded, parts: Parts, history: list[dict[str, float]]
    ) -> Any:
        return metrics(run.folder)


def train_seq(
    dirs: Sequence[Path],
    out: Path,
    cfg: SeqConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callback: Callback | None = None,
) -> dict[str, float]:
    """Train a sequence recogniser into run folder `out`; returns the final metrics."""
    job = SequenceJob(dirs, cfg)
    result: dict[str, float] = run_job(
        job, out, resume=resume, overwrite=overwrite, callback=callback
    )
    return result
