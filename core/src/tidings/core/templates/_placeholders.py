"""Placeholders: how Jinja tags hide from MRML and html2text, and find their way back.

Every Jinja tag in the MJML is swapped for an opaque alphanumeric word before
MRML and html2text see it, and put back afterwards; each remembers the file and
line its author wrote it on, so errors can point there (see ``_compile``).
"""

from __future__ import annotations

import bisect
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["LineMap", "Placeholders", "Tag"]

_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_RAW_START = re.compile(r"^\{%[-+]?\s*raw\s*[-+]?%\}$")
_RAW_END = re.compile(r"^\{%[-+]?\s*endraw\s*[-+]?%\}$")


@dataclass(frozen=True)
class Tag:
    text: str
    label: str
    line: int


@dataclass
class Placeholders:
    """The placeholder table shared by a template and its partials during one compile."""

    nonce: str = field(default_factory=lambda: "".join(secrets.choice("bcdfghjkmnpqrstvwxz")
                                                       for _ in range(8)))
    tags: list[Tag] = field(default_factory=list)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"jj{self.nonce}(\\d+)q")

    @property
    def statement_pattern(self) -> re.Pattern[str]:
        """Matches the placeholders of ``{% %}`` tags only."""
        ids = "|".join(str(i) for i, t in enumerate(self.tags) if t.text.startswith("{%"))
        return re.compile(f"jj{self.nonce}(?:{ids})q" if ids else "(?!)")

    def has_raw(self) -> bool:
        """Whether a ``{% raw %}`` block is among the tags."""
        return any(_RAW_START.match(tag.text) for tag in self.tags)

    def source_of(self, text: str) -> str:
        """``text`` with placeholders swapped back for their tags, whitespace-normalised."""
        restored = self.pattern.sub(lambda m: self.tags[int(m.group(1))].text, text)
        return " ".join(restored.replace("{{", "{{ ").replace("}}", " }}").split())

    def protect(self, text: str, label: str, first_line: int = 1) -> str:
        """Swap each Jinja tag for a placeholder, remembering where the author wrote it."""
        pieces: list[str] = []
        pos, line = 0, first_line
        for m in _JINJA_TAG.finditer(text):
            line += text.count("\n", pos, m.start())
            pieces.append(text[pos:m.start()])
            self.tags.append(Tag(m.group(), label, line))
            pieces.append(f"jj{self.nonce}{len(self.tags) - 1}q")
            line += m.group().count("\n")
            pos = m.end()
        pieces.append(text[pos:])
        return "".join(pieces)

    def restore(self, text: str) -> tuple[str, LineMap]:
        """Put the tags back, each starting on a line of its own (see module docstring)."""
        out: list[str] = []
        starts: list[int] = []
        spans: list[tuple[int, Tag]] = []
        pos, line, in_raw = 0, 1, False
        for m in self.pattern.finditer(text):
            chunk = text[pos:m.start()]
            out.append(chunk)
            line += chunk.count("\n")
            tag = self.tags[int(m.group(1))]
            tag_text = tag.text
            if _RAW_END.match(tag_text):
                in_raw = False
            if not in_raw and not tag_text.startswith("{#"):
                cut = 3 if tag_text[2] in "-+" else 2
                tag_text = f"{tag_text[:cut]}\n{tag_text[cut:]}"
                starts.append(line + 1)
                spans.append((line + tag_text.count("\n"), tag))
            if _RAW_START.match(tag.text):
                in_raw = True
            out.append(tag_text)
            line += tag_text.count("\n")
            pos = m.end()
        out.append(text[pos:])
        return "".join(out), LineMap(starts, spans)


@dataclass(frozen=True)
class LineMap:
    """Compiled-template line → the tag (file, line, text) the author wrote."""

    starts: list[int]
    spans: list[tuple[int, Tag]]

    def find(self, line: int | None) -> Tag | None:
        if line is None:
            return None
        i = bisect.bisect_right(self.starts, line) - 1
        if i >= 0 and line <= self.spans[i][0]:
            return self.spans[i][1]
        return None
