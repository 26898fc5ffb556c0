"""Embeddings behind one small interface (:class:`Embedder`): a static model, or a transformer.

* :class:`~retold.embed.static.StaticEmbedder` — model2vec: a token-embedding table, several
  thousand whole stories a second, never truncated. By default distilled offline from the default
  transformer on first use and cached in the user cache directory.
* :class:`~retold.embed.transformer.TransformerEmbedder` — any sentence-transformers model by name
  or local path, over the whole text: long texts are cut into chunks at sentence ends and the chunk
  vectors averaged (weighted by tokens), never truncated. Safetensors only; never remote code.

Nothing here is imported by the lexical levels (exact, near).
"""

from __future__ import annotations

from retold.embed.base import Embedder, cache_dir, resolve_model
from retold.errors import ModelNotAvailable

__all__ = ["Embedder", "cache_dir", "load", "resolve_model"]

_DEFAULT_STATIC: dict[str, Embedder] = {}


def load(spec: str | None = None, kind: str = "static") -> Embedder:
    """An embedder: ``kind`` is ``static`` (model2vec) or ``transformer``; ``spec`` a model name or path.

    Raises :class:`~retold.errors.ModelNotAvailable` (one line, with the next step) when the
    libraries are not installed or the model cannot be found.
    """
    if kind not in ("static", "transformer"):
        raise ValueError(f"embedder kind must be static or transformer, got {kind!r}")
    try:
        if kind == "static":
            from retold.embed.static import DEFAULT_MODEL, StaticEmbedder

            if spec not in (None, DEFAULT_MODEL):
                return StaticEmbedder.load(spec)
            # the default, distilled once into the cache, is loaded once a process (0.5 s): pass 1's
            # stage and the verifier a worker builds for the decision share it
            key = str(cache_dir())
            if key not in _DEFAULT_STATIC:
                _DEFAULT_STATIC[key] = StaticEmbedder.load(spec)
            return _DEFAULT_STATIC[key]
        from retold.embed.transformer import TransformerEmbedder

        return TransformerEmbedder(spec)
    except ImportError as exc:
        raise ModelNotAvailable(
            f"the retold level needs the embedding libraries ({exc.name or exc}); "
            "reinstall retold (pip install retold), which brings them"
        ) from None
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotAvailable(
            f"cannot load the {kind} model {spec or 'default'!r}: {first}; "
            "pass a local model folder, or a model name the hub can serve"
        ) from None
