"""German normalisation for lexical matching: lemmas, umlaut/ß folding, compound parts.

Customers write "ruecksendung", "Rücksendungen" and "rücksende kosten" for the
same thing; these terms must meet in one form before BM25 can compare them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import spacy
from spacy.lang.de.stop_words import STOP_WORDS
from spacy.lookups import Table

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_LINKING_ELEMENTS = ("", "s", "es", "n", "en", "e")
MIN_PART_CHARS = 4


def fold(text: str) -> str:
    """Lower-case and fold umlauts and ß, so "Rücksendung" == "ruecksendung"."""
    return text.lower().translate(_FOLD)


_FOLDED_STOP_WORDS = frozenset(fold(w) for w in STOP_WORDS) | {
    "hallo", "bitte", "danke", "mal", "eigentlich", "gerne", "guten", "tag",
}


@cache
def _lemma_table() -> Table:
    """spaCy's German lookup lemmatizer table (spacy-lookups-data), loaded once per process."""
    nlp = spacy.blank("de")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return lemmatizer.lookups.get_table("lemma_lookup")


class GermanAnalyzer:
    """Turns text into folded lemma terms, with compounds also split into known parts."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self.vocabulary: set[str] = set(vocabulary)

    def lemma(self, word: str) -> str:
        """Lookup lemma; tries the capitalised form because customers write nouns lower-case."""
        table = _lemma_table()
        return table.get(word) or table.get(word.capitalize()) or table.get(word.lower()) or word

    def terms(self, text: str) -> list[str]:
        """Folded lemmas without stop words, plus the known parts of compounds."""
        result: list[str] = []
        for word in _WORD.findall(text):
            term = fold(self.lemma(word))
            if term in _FOLDED_STOP_WORDS or len(term) < 2:
                continue
            parts = self.split_compound(term)
            if not parts or term in self.vocabulary:
                result.append(term)  # an unknown compound is represented by its known parts
            result.extend(parts)
        return result

    def split_compound(self, term: str) -> list[str]:
        """Split a compound into vocabulary words ("ruecksendekosten" → ruecksende, kosten).

        Greedy from the right, because German compounds put the head last, and
        tolerant of linking elements (Fugen-s, -n, -en, -e). Only splits into parts
        the knowledge base itself uses, so unknown words stay whole.
        """
        if len(term) < 2 * MIN_PART_CHARS or not self.vocabulary:
            return []
        for cut in range(MIN_PART_CHARS, len(term) - MIN_PART_CHARS + 1):
            head, tail = term[:cut], term[cut:]
            if tail not in self.vocabulary:
                continue
            for link in _LINKING_ELEMENTS:
                stem = head[: len(head) - len(link)] if link and head.endswith(link) else head
                if link and not head.endswith(link):
                    continue
                if len(stem) >= MIN_PART_CHARS and stem in self.vocabulary:
                    return [stem, tail]
                if len(stem) >= MIN_PART_CHARS and (rest := self.split_compound(stem)):
                    return [*rest, tail]
        return []
