"""retold: curate corpora of generated text.

Repairs broken text (mojibake), drops copies, and finds stories told twice. The Python API and
the ``retold`` command are one design: ``retold scan a.jsonl --out X --keep longest`` is
``retold.scan(["a.jsonl"], out="X", keep="longest")``.
"""

# The subpackage retold.audit is loaded first: Python binds a subpackage to its parent's attribute
# when it is first imported, which would otherwise replace the retold.audit() verb below.
import retold.audit as _audit_package  # noqa: F401
from retold._version import __version__
from retold.api import audit, compare, demo, fix, recut, scan
from retold.config import ScanConfig
from retold.errors import RetoldError
from retold.result import ScanResult

__all__ = [
    "RetoldError",
    "ScanConfig",
    "ScanResult",
    "__version__",
    "audit",
    "compare",
    "demo",
    "fix",
    "recut",
    "scan",
]
