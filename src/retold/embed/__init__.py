"""Embeddings behind one small interface (:class:`Embedder`): a static model, or a transformer.

* :class:`~retold.embed.static.StaticEmbedder` — model2vec: a token-embedding table, ~1,000 whole
  stories a second on one core. By default distilled offline from the default transformer on first
  use and cached in the user cache directory.
* :class:`~retold.embed.transformer.TransformerEmbedder` — any sentence-transformers model by name
  or local path, over the whole text: long texts are cut into chunks at sentence ends and the chunk
  vectors averaged (weighted by tokens), never truncated. Safetensors only; never remote code.

Nothing here is imported by the lexical levels (exact, near).
"""

from __future__ import annotations

from retold.embed.base import Embedder, cache_dir, resolve_model

__all__ = ["Embedder", "cache_dir", "load", "resolve_model"]


def load(spec: str | None = None, kind: str = "static") -> Embedder:
    """An embedder: ``kind`` is ``static`` (model2vec) or ``transformer``; ``spec`` a model name or path."""
    if kind == "static":
        from retold.embed.static import StaticEmbedder

        return StaticEmbedder.load(spec)
    if kind == "transformer":
        from retold.embed.transformer import TransformerEmbedder

        return TransformerEmbedder(spec)
    raise ValueError(f"embedder kind must be static or transformer, got {kind!r}")
