"""Any sentence-transformers model, over the whole text (chunked at sentence ends, then pooled).

Transformers read at most ``max_seq_length`` tokens (256 for all-MiniLM-L6-v2) and silently drop the
rest; a story is often longer. Here a text is cut into chunks of whole sentences that fit, each
chunk is encoded, and the text's vector is the token-weighted mean of its chunks' vectors. A single
sentence longer than the limit is cut at token boundaries.

Loading: a local path, the packaged default (offline), or a hub name; weights only as safetensors,
``trust_remote_code`` always off.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from retold.embed.base import DEFAULT_MODEL, normalise, quiet_loading, resolve_model
from retold.text import sentences


class TransformerEmbedder:
    """Whole-text embeddings from a sentence-transformers model (CPU unless ``device`` says)."""

    def __init__(self, spec: str | None = None, device: str | None = None, batch_size: int = 64) -> None:
        path = resolve_model(spec or DEFAULT_MODEL)
        if Path(path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        with quiet_loading():
            self.model = SentenceTransformer(
                path,
                device=device or "cpu",
                trust_remote_code=False,
                model_kwargs={"use_safetensors": True},
            )
        self.name = spec or DEFAULT_MODEL
        dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dim() or 0)
        self.batch_size = batch_size
        self.max_tokens = max(16, int(self.model.max_seq_length or 256) - 2)  # [CLS] and [SEP]

    def _tokens(self, texts: list[str]) -> list[list[int]]:
        return self.model.tokenizer(texts, add_special_tokens=False)["input_ids"]

    def chunks(self, text: str) -> tuple[list[str], list[int]]:
        """The text cut into chunks of whole sentences that fit the model, and their token counts."""
        parts = sentences(text) or [text]
        out: list[str] = []
        weights: list[int] = []
        current: list[str] = []
        size = 0
        for part, ids in zip(parts, self._tokens(parts), strict=True):
            if len(ids) > self.max_tokens:  # one over-long sentence: cut at token boundaries
                if current:
                    out.append(" ".join(current))
                    weights.append(size)
                    current, size = [], 0
                for lo in range(0, len(ids), self.max_tokens):
                    piece = ids[lo : lo + self.max_tokens]
                    out.append(self.model.tokenizer.decode(piece))
                    weights.append(len(piece))
                continue
            if size + len(ids) > self.max_tokens and current:
                out.append(" ".join(current))
                weights.append(size)
                current, size = [], 0
            current.append(part)
            size += len(ids)
        if current:
            out.append(" ".join(current))
            weights.append(size)
        return out, weights

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit vector per whole text (chunks pooled by token count)."""
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        pieces: list[str] = []
        owner: list[int] = []
        weight: list[int] = []
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            parts, counts = self.chunks(text)
            pieces.extend(parts)
            owner.extend([i] * len(parts))
            weight.extend(counts)
        if not pieces:
            return result
        vectors = self.encode_short(pieces)
        np.add.at(result, np.asarray(owner), vectors * np.asarray(weight, dtype=np.float32)[:, None])
        return normalise(result)

    def encode_short(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of texts known to fit the model (sentences, chunks)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
