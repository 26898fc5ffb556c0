"""The repair stage: fixes each record's text and lists what it fixed on the record."""

from __future__ import annotations

from retold.records import Record
from retold.repair.fixes import repair_text
from retold.stages import Stage


class RepairStage(Stage):
    """Repair each record's text (see :mod:`retold.repair.fixes`) and keep the fix names.

    Stats: ``total``, ``repaired`` (records whose text changed) and one counter per fix name.

    >>> from retold.records import Record
    >>> stage = RepairStage(text_field="text")
    >>> [r.text for r in stage.run([Record("a", "caf√©", {"text": "caf√©"}, "x", 1)])]
    ['café']
    >>> stage.stats["repaired"], stage.stats["mojibake:macroman"]
    (1, 1)
    """

    name = "repair"

    def __init__(self, text_field: str = "text") -> None:
        super().__init__()
        self.text_field = text_field

    def fix(self, text: str) -> tuple[str, list[str]]:
        return repair_text(text)

    def process(self, record: Record) -> Record:
        text, fixes = self.fix(record.text)
        if text != record.text:
            self.stats["repaired"] += 1
            for name in fixes:
                self.stats[name] += 1
            record.text = text
            record.data[self.text_field] = text
            record.fixes = fixes
        return record
