"""Static embeddings (model2vec): a token table looked up and averaged, no transformer at run time.

The default is distilled from the default transformer (all-MiniLM-L6-v2) with model2vec's
``distill`` on first use — offline, ~12 s on 2 cores — and saved under ``cache_dir()/static/``;
later runs load it in a fraction of a second. A model2vec model on disk or on the hub can be named
instead (``--embedder static:PATH``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from retold.embed.base import DEFAULT_MODEL, cache_dir, normalise, resolve_model

_LOCK = threading.Lock()


class StaticEmbedder:
    """A model2vec ``StaticModel``; ``encode`` gives unit rows."""

    def __init__(self, model: object, name: str) -> None:
        self.model = model
        self.name = name
        self.dim = int(model.dim)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, spec: str | None = None) -> StaticEmbedder:
        """A model2vec model by path or hub name; ``None`` distils (once) from the default model."""
        from model2vec import StaticModel

        if spec is None or spec == DEFAULT_MODEL or _is_transformer(spec):
            source = spec or DEFAULT_MODEL
            path = distilled(source)
            return cls(StaticModel.from_pretrained(path), f"model2vec distilled from {source}")
        return cls(StaticModel.from_pretrained(resolve_model(spec)), spec)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # max_length=None: every token of the whole text counts (model2vec truncates at 512 otherwise)
        vectors = self.model.encode(  # type: ignore[attr-defined]
            list(texts), max_length=None, use_multiprocessing=False, show_progress_bar=False
        )
        return normalise(vectors)


def _is_transformer(spec: str) -> bool:
    """Whether ``spec`` names a sentence-transformers model (to distil) rather than a model2vec one."""
    path = Path(resolve_model(spec))
    return (path / "config.json").exists() and (path / "modules.json").exists()


def distilled(source: str = DEFAULT_MODEL) -> Path:
    """The cached static model distilled from ``source``, made now if missing (atomically)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")
    target = cache_dir() / "static" / slug
    if (target / "model.safetensors").exists():
        return target
    with _LOCK:
        if (target / "model.safetensors").exists():
            return target
        os.environ.setdefault("HF_HUB_OFFLINE", "1" if Path(resolve_model(source)).exists() else "0")
        from model2vec.distill import distill

        model = distill(model_name=resolve_model(source), pca_dims=256, trust_remote_code=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
        try:
            model.save_pretrained(str(tmp))
            try:
                tmp.rename(target)
            except OSError:  # another process finished first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
