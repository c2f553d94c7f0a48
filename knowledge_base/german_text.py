"""German normalisation for lexical matching: lemmas, umlaut/ß folding, compound parts.

Customers write "ruecksendung", "Rücksendungen" and "rücksende kosten" for the
same thing; these terms must meet in one form before BM25 can compare them.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import spacy_lookups_data

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_LINKING_ELEMENTS = ("", "s", "es", "n", "en", "e")
MIN_PART_CHARS = 4


def fold(text: str) -> str:
    """Lower-case and fold umlauts and ß, so "Rücksendung" == "ruecksendung"."""
    return text.lower().translate(_FOLD)


# spaCy's German stop words and lookup lemmas are read from their files, not through `import spacy`: that
# import pulls in thinc and with it torch (~250 MB and 3 s per process), which a process serving questions
# from the int8 export (knowledge_base/query_model.py) and a cached index otherwise never loads.


def _spacy_stop_words() -> frozenset[str]:
    """`spacy.lang.de.stop_words.STOP_WORDS`, executed alone (the module is a plain word list)."""
    spacy_spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    assert spacy_spec is not None and spacy_spec.submodule_search_locations, "spaCy is not installed"
    path = Path(spacy_spec.submodule_search_locations[0]) / "lang" / "de" / "stop_words.py"
    spec = importlib.util.spec_from_file_location("_spacy_de_stop_words", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


_FOLDED_STOP_WORDS = frozenset(fold(w) for w in _spacy_stop_words()) | {
    "hallo", "bitte", "danke", "mal", "eigentlich", "gerne", "guten", "tag",
}


@cache
def _lemma_table() -> dict[str, str]:
    """spaCy's German lookup lemmatizer table (spacy-lookups-data), loaded once per process.

    The same file spaCy's lookup lemmatizer reads (plain JSON, or gzipped beside the registered name).
    """
    path = Path(str(spacy_lookups_data.de["lemma_lookup"]))
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    with gzip.open(path.with_name(path.name + ".gz"), "rt", encoding="utf-8") as handle:
        return json.load(handle)


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
