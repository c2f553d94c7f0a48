"""The FAQ entry schema editors write in `knowledge_base/faqs/*.yml`.

pydantic validates every entry; the lint command turns its errors into
file:line messages, so editors see all problems at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SMS_MAX_CHARS = 320
"""Two concatenated SMS segments; longer answers need a `short_answer`."""


class FaqEntry(BaseModel):
    """One customer question with its answer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    question: str = Field(min_length=1, max_length=500)
    alternatives: tuple[str, ...] = ()
    answer: str = Field(min_length=1)
    short_answer: str | None = Field(default=None, min_length=1, max_length=SMS_MAX_CHARS)
    tags: tuple[str, ...] = ()
    updated: dt.date

    @field_validator("alternatives", "tags")
    @classmethod
    def _no_blank_items(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        stripped = tuple(item.strip() for item in items)
        if any(not item for item in stripped):
            raise ValueError("must not contain empty items")
        return stripped

    @property
    def match_texts(self) -> tuple[str, ...]:
        """The phrasings a customer question is matched against."""
        return (self.question, *self.alternatives)


class FaqFile(BaseModel):
    """A topic file: a title and its entries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    topic: str = Field(min_length=1)
    faqs: list[Any] = Field(min_length=1)
    """Validated one by one (`FaqEntry`), so one bad entry does not hide the others."""
