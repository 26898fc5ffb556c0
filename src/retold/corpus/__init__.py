"""Reading corpora (streaming, every unit accounted for) and writing outputs atomically."""

from retold.corpus.readers import read_inputs
from retold.corpus.sources import Source, expand_inputs

__all__ = ["Source", "expand_inputs", "read_inputs"]
