"""The causal LM whose perplexity retrieval should lower (GPT-2 or Llama style), and the demo LM.

``rag.lm=<local dir or hub id>`` loads any ``AutoModelForCausalLM``. ``rag.lm=demo`` builds a
tiny GPT-2 (byte-level BPE tokenizer + 2 layers) trained for a few hundred steps on the
datastore chunks, which hold no test patient's notes. It starts with a wired induction (copy)
circuit (``wire_copy_circuit``), and its training rows put chunks after their nearest neighbours
and repeat pieces of text (``TrainingRows``), so that it can use what retrieval finds. It exists
so that the demo runs offline end to end; it is not a model to report numbers with.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from clinicalnotebert.cache import entry_dir, load_or_build
from clinicalnotebert.config import DemoLmConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.utils.progress import progress

log = logging.getLogger(__name__)

DEMO = "demo"
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
END_OF_TEXT = "<|endoftext|>"
# Bump when the demo LM's training changes, so that cached demo LMs are not reused.
DEMO_LM_VERSION = 2


def torch_dtype(precision: str, device: str) -> torch.dtype:
    """``auto``: bf16 on a GPU that has it (else fp16), fp32 on CPU."""
    if precision == "auto":
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision not in PRECISIONS:
        raise UserError(f"rag.precision '{precision}' is not one of auto, {', '.join(PRECISIONS)}")
    return PRECISIONS[precision]


def lm_reference(configured) -> str:
    """``rag.lm`` checked before any heavy work: ``demo``, a local dir, or a hub id."""
    if configured in (None, ""):
        raise UserError(
            "rag.lm is not set: name a causal LM (a local dir or a hub id such as gpt2 or "
            "meta-llama/Llama-2-7b-hf), or 'demo' for the tiny demo LM"
        )
    return DEMO if configured == DEMO else resolve_pretrained(configured, "rag.lm")


def load_lm(reference: str, device: str, dtype: torch.dtype):
    """``(tokenizer, model)`` in eval mode; safetensors or safe loading, never remote code."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(reference, "rag.lm")
    try:
        model = AutoModelForCausalLM.from_pretrained(reference, dtype=dtype)
    except (OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise UserError(f"rag.lm: cannot load a causal LM from '{reference}': {message}") from None
    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        raise UserError(
            f"rag.lm: tokenizer has {len(tokenizer)} tokens but the LM's embedding has {rows}: "
            "they do not belong together"
        )
    return tokenizer, model.to(device).eval()


def max_positions(model, configured) -> int:
    """The longest input the LM takes: ``rag.lm_max_positions`` or its config's positions."""
    if configured:
        return int(configured)
    positions = getattr(model.config, "max_position_embeddings", None)
    if not positions:
        raise UserError("rag.lm_max_positions: the LM's config names no position limit; set it")
    return int(positions)


# --- the demo LM -------------------------------------------------------------------------------


def train_byte_bpe(texts, vocab_size: int):
    """A GPT-2 style byte-level BPE tokenizer trained on ``texts`` (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        unk_token=END_OF_TEXT,
    )


def tiny_gpt2(tokenizer, cfg: DemoLmConfig):
    """A small random GPT-2 (``cfg``'s ``n_positions``, ``n_embd``, ``n_layer``, ``n_head``)
    without dropout: the demo LM before its training, and the tests' and benchmarks' LM."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=cfg.n_positions,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return GPT2LMHeadModel(config)


# The copy circuit wired into the demo LM (see wire_copy_circuit).
POSITION_FREQUENCIES = 8  # sin/cos pairs of the position code the previous-token head reads
EMBEDDING_NORM = 0.5  # |token embedding| = |position code| at the start
PREVIOUS_TOKEN_GAIN = 3.5  # sharpness of the previous-token head
MATCH_GAIN = 4.0  # sharpness of the induction head's token match
COPY_GAIN = 1.0  # how strongly the induction head writes the token it copies


def position_code(positions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The position code table (positions x 2 * POSITION_FREQUENCIES: sin/cos pairs at
    geometric frequencies) and its frequencies. The sum of cosines of two positions' codes peaks
    sharply at a distance of 0 and stays well below it up to 1,200 positions."""
    frequencies = math.pi * 0.97 * 0.48 ** torch.arange(POSITION_FREQUENCIES, dtype=torch.float64)
    angles = torch.arange(positions, dtype=torch.float64)[:, None] * frequencies[None, :]
    table = torch.zeros(positions, 2 * POSITION_FREQUENCIES, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return table.float(), frequencies


@dataclass(frozen=True)
class CircuitLayout:
    """Where the copy circuit keeps what in the residual stream (``width`` dims)."""

    width: int
    head: int  # dims per head
    tokens: int  # token dims: the first half
    code: slice  # the position code
    slot_width: int
    slots: tuple[int, ...]  # start of the previous-token slot (and the one-before-previous)

    @property
    def bigram(self) -> bool:
        return len(self.slots) == 2


def circuit_layout(config) -> CircuitLayout:
    width, heads = config.n_embd, config.n_head
    head, tokens = width // heads, width // 2
    code = slice(tokens, tokens + 2 * POSITION_FREQUENCIES)
    room = width - tokens - 2 * POSITION_FREQUENCIES
    bigram = heads >= 3 and room >= 16 and head >= room
    slot_width = min(room // 2 if bigram else room, head)  # a head writes at most its own dims
    if config.n_layer < 2 or heads < 2 or slot_width < 8 or head < 2 * POSITION_FREQUENCIES:
        raise UserError(
            "rag.demo_lm: the copy circuit needs n_layer >= 2, n_head >= 2 and room for its "
            "position code and slots (n_embd 64 with n_head 2, or 96 with n_head 3)"
        )
    slots = tuple(code.stop + i * slot_width for i in range(2 if bigram else 1))
    return CircuitLayout(width, head, tokens, code, slot_width, slots)


def wired_head(attention, layout: CircuitLayout, index: int, fixed: list):
    """Zero head ``index`` of ``attention``, add its entries to ``fixed`` and return its q, k, v
    and out weights (views, to write the circuit into)."""
    width, head = layout.width, layout.head
    weight, bias = attention.c_attn.weight, attention.c_attn.bias
    columns = torch.zeros(3 * width, dtype=torch.bool)
    for part in range(3):
        columns[part * width + index * head : part * width + (index + 1) * head] = True
    rows = torch.zeros(width, dtype=torch.bool)
    rows[index * head : (index + 1) * head] = True
    out = attention.c_proj.weight
    weight[:, columns], bias[columns], out[rows] = 0, 0, 0
    fixed.extend(
        [(weight, columns.expand_as(weight)), (bias, columns), (out, rows[:, None].expand_as(out))]
    )
    parts = [weight[:, part * width + index * head :][:, :head] for part in range(3)]
    return (*parts, out[index * head : (index + 1) * head])


def wire_embeddings(transformer, layout: CircuitLayout, generator) -> list:
    """Token embeddings in the token dims, the position code in its own; both stay fixed (the
    heads read them). Returns the fixed entries."""
    embedding, positions = transformer.wte.weight, transformer.wpe.weight
    embedding.zero_()
    embedding[:, : layout.tokens] = torch.randn(len(embedding), layout.tokens, generator=generator)
    embedding[:, : layout.tokens] *= EMBEDDING_NORM / math.sqrt(layout.tokens)
    table, _ = position_code(len(positions))
    positions.zero_()
    positions[:, layout.code] = table * (EMBEDDING_NORM / math.sqrt(POSITION_FREQUENCIES))
    unused = torch.zeros_like(embedding, dtype=torch.bool)
    unused[:, layout.tokens :] = True
    return [(positions, torch.ones_like(positions, dtype=torch.bool)), (embedding, unused)]


def wire_previous_token_heads(attention, layout, projection, scale: float, fixed: list) -> None:
    """Layer 0: head i attends i + 1 positions back (its query is the position code turned back
    by i + 1 steps) and writes a projection of that token into slot i."""
    _, frequencies = position_code(1)
    for index, start in enumerate(layout.slots):
        query, key, value, out = wired_head(attention, layout, index, fixed)
        for f, angle in enumerate(frequencies.tolist()):
            rows = slice(layout.code.start + 2 * f, layout.code.start + 2 * f + 2)
            cos, sin = math.cos((index + 1) * angle), math.sin((index + 1) * angle)
            turn = torch.tensor([[cos, sin], [-sin, cos]])
            query[rows, 2 * f : 2 * f + 2] = PREVIOUS_TOKEN_GAIN * turn
            key[rows, 2 * f : 2 * f + 2] = PREVIOUS_TOKEN_GAIN * torch.eye(2)
        value[: layout.tokens, : layout.slot_width] = projection.T
        out[: layout.slot_width, start : start + layout.slot_width] = (
            torch.eye(layout.slot_width) * scale
        )


def wire_induction_head(attention, layout, projection, copy, scale: float, fixed: list) -> None:
    """Layer 1, head 0: attend where the previous token(s) match the current one(s) and add the
    token found there to the residual stream (the tied output embedding reads it back)."""
    slot, first = layout.slot_width, layout.slots[0]
    query, key, value, out = wired_head(attention, layout, 0, fixed)
    query[: layout.tokens, :slot] = MATCH_GAIN * projection.T
    key[first : first + slot, :slot] = MATCH_GAIN * torch.eye(slot)
    if layout.bigram:  # the token before: the current one's first slot against the second slot
        second = layout.slots[1]
        query[first : first + slot, slot : 2 * slot] = MATCH_GAIN * torch.eye(slot)
        key[second : second + slot, slot : 2 * slot] = MATCH_GAIN * torch.eye(slot)
    copied = len(copy)
    value[: layout.tokens, :copied] = copy.T
    out[:copied, : layout.tokens] = copy * (scale * COPY_GAIN)


@torch.no_grad()
def wire_copy_circuit(model, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Start a small GPT-2 with an induction circuit, which copies from its context.

    A model this small does not learn to copy within the demo's few hundred steps (induction
    heads appear late in training), and a retrieved chunk is of no use to an LM that cannot
    copy from it. So a few heads start as the classic circuit:

    - the residual stream is split into token dims (the first half), a position code (sinusoids,
      ``position_code``) and slots for the previous and (room permitting) the one-before-previous
      token;
    - in layer 0, head 0 attends from each position to the one before it (its query is the
      position code turned back by one step, its key the position code) and writes a projection
      of that token into the first slot; head 1 does the same two steps back, into the second;
    - layer 1, head 0 attends to the positions whose previous tokens are the current ones (a
      two-token match when there is a second slot: query, the current token and the first slot;
      key, both slots) and adds the token found there to the residual stream, which the tied
      output embedding reads as "predict this token". A two-token match copies far less from
      a chunk that merely shares a word.

    These heads and the position code stay fixed in training (returned: each parameter with
    the mask of its fixed entries); everything else starts as GPT-2's usual random init.
    """
    layout = circuit_layout(model.config)
    generator = torch.Generator().manual_seed(seed)
    transformer = model.transformer
    fixed = wire_embeddings(transformer, layout, generator)
    scale = EMBEDDING_NORM * math.sqrt(2 / layout.width)  # a residual entry's size (LN divides)
    random_rows = torch.randn(layout.tokens, layout.slot_width, generator=generator)
    projection = torch.linalg.qr(random_rows)[0].T
    copied = min(layout.head, layout.tokens)
    copy = torch.linalg.qr(torch.randn(layout.tokens, copied, generator=generator))[0].T
    wire_previous_token_heads(transformer.h[0].attn, layout, projection, scale, fixed)
    wire_induction_head(transformer.h[1].attn, layout, projection, copy, scale, fixed)
    return fixed


def nearest_neighbours(texts: list[str], block: int = 1024) -> np.ndarray:
    """Each text's lexically nearest other text (TF-IDF cosine over words and word pairs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    nearest = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), block):
        similarity = (vectors[start : start + block] @ vectors.T).toarray()
        rows = np.arange(len(similarity))
        similarity[rows, start + rows] = -1.0
        nearest[start : start + len(similarity)] = similarity.argmax(1)
    return nearest


PAIRED_SHARE = 0.5  # training rows that put a chunk after its nearest neighbour
REPEAT_SHARE = 0.25  # training rows that repeat a piece of text (as notes copy text forward)


class TrainingRows:
    """Rows of ``block_size`` tokens to train on, drawn from the datastore chunks.

    A *paired* row is a piece of a chunk's nearest neighbour followed by the chunk from about
    the same place on, as evaluation prepends a retrieved chunk to the text it may continue:
    where the two are near copies (shared paragraphs, templates), the second half can be
    copied from the first, which is what teaches a small LM to read its context (an induction
    head). A *repeated* row holds a piece of text twice (as notes copy text forward). A *plain*
    row is a slice of all chunks joined in a random order. Shares: ``PAIRED_SHARE``,
    ``REPEAT_SHARE``, the rest plain.
    """

    def __init__(self, encoded: list[list[int]], nearest: np.ndarray, block: int, seed: int):
        self.encoded, self.nearest, self.block = encoded, nearest, block
        self.rng = np.random.default_rng(seed)
        order = self.rng.permutation(len(encoded))
        self.stream = np.fromiter((t for i in order for t in encoded[i]), dtype=np.int64)
        if len(self.stream) <= block + 1:
            raise UserError(
                f"rag.demo_lm: the datastore has only {len(self.stream)} tokens to train on"
            )

    def plain(self) -> np.ndarray:
        start = self.rng.integers(0, len(self.stream) - self.block)
        return self.stream[start : start + self.block]

    def paired(self) -> np.ndarray:
        chunk = int(self.rng.integers(len(self.encoded)))
        first, second = self.encoded[int(self.nearest[chunk])], self.encoded[chunk]
        length = int(self.rng.integers(self.block // 4, 3 * self.block // 4 + 1))
        begin = int(self.rng.integers(0, max(len(first) - length, 0) + 1))
        head = first[begin : begin + length]
        shift = int(self.rng.integers(0, len(head) // 2 + 1))
        tail = second[begin + shift : begin + shift + self.block - len(head)]
        row = np.asarray([*head, *tail], dtype=np.int64)
        if len(row) < self.block:  # short chunks: fill up with plain text
            row = np.concatenate([row, self.plain()[: self.block - len(row)]])
        return row

    def repeated(self) -> np.ndarray:
        piece = self.plain()[: int(self.rng.integers(self.block // 4, self.block // 2 + 1))]
        return np.concatenate([piece, piece, self.plain()])[: self.block]

    def row(self) -> np.ndarray:
        draw = self.rng.random()
        if draw < REPEAT_SHARE:
            return self.repeated()
        return self.paired() if draw < REPEAT_SHARE + PAIRED_SHARE else self.plain()

    def batch(self, size: int) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.row() for _ in range(size)]))


def train_lm(model, rows: TrainingRows, cfg: DemoLmConfig, seed: int, fixed=()) -> float:
    """Next-token training on ``rows``, each placed at a random offset of the LM's positions
    (evaluation inputs reach far beyond ``block_size``); the ``fixed`` entries (parameter, mask)
    are put back after every step. Returns the last loss."""
    kept = [(parameter, mask, parameter.detach()[mask].clone()) for parameter, mask in fixed]
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1
    )
    positions = torch.arange(cfg.block_size)
    room = max(cfg.n_positions - cfg.block_size + 1, 1)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in progress(range(cfg.steps), "rag: train demo LM"):
        batch = rows.batch(cfg.batch_size)
        offsets = torch.randint(0, room, (cfg.batch_size, 1), generator=generator)
        loss = model(input_ids=batch, position_ids=offsets + positions, labels=batch).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            for parameter, mask, values in kept:
                parameter[mask] = values
    model.eval()
    return loss.item()


def demo_lm(chunks, chunks_fingerprint: str, cfg: DemoLmConfig, cache_dir: Path, seed: int) -> str:
    """The demo LM's directory, trained once per datastore (cached)."""
    parts = {"version": DEMO_LM_VERSION, "chunks": chunks_fingerprint, "seed": seed, **asdict(cfg)}

    def build(out: Path) -> None:
        texts = list(chunks[: cfg.train_chunks]["text"])
        torch.manual_seed(seed)
        tokenizer = train_byte_bpe(texts, cfg.vocab_size)
        encoded = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
        rows = TrainingRows(encoded, nearest_neighbours(texts), cfg.block_size, seed)
        model = tiny_gpt2(tokenizer, cfg)
        fixed = wire_copy_circuit(model, seed)
        loss = train_lm(model, rows, cfg, seed, fixed)
        log.info("rag: demo LM trained on %d tokens, last loss %.3f", len(rows.stream), loss)
        tokenizer.save_pretrained(out)
        model.save_pretrained(out)

    return str(load_or_build(entry_dir(cache_dir, "demo-lm", parts), parts, build, Path)[0])
