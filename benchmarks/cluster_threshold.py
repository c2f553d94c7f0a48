"""Sweep the unanswered-question clustering's distance threshold on labelled paraphrases.

    .venv/bin/python benchmarks/cluster_threshold.py [--data benchmarks/data/unanswered_paraphrases.json]

Prints, per threshold, the adjusted Rand index against the topic labels, the number of clusters, and how
many pairs were wrongly merged (different topics together) or split (one topic apart). Editors read a
wrong merge as one question and miss the second; a split only costs them a second look, so ties go to
the smaller threshold.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from bot.conversation.question_clusters import MAX_DISTANCE, cluster_labels  # noqa: E402
from knowledge_base.embedding import SentenceTransformerEmbedder  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "unanswered_paraphrases.json")
    args = parser.parse_args()
    topics: dict[str, list[str]] = json.loads(args.data.read_text(encoding="utf-8"))["topics"]
    texts = [text for questions in topics.values() for text in questions]
    gold = [topic for topic, questions in topics.items() for _ in questions]
    vectors = SentenceTransformerEmbedder(Settings().embedding_model).encode(texts, "query")
    print(f"{len(texts)} questions, {len(topics)} topics; current MAX_DISTANCE = {MAX_DISTANCE}")
    print("threshold  ARI    clusters  merged-pairs  split-pairs")
    for step in range(4, 31):
        threshold = step / 100
        labels = cluster_labels(vectors, threshold)
        merged = split = 0
        for i, j in itertools.combinations(range(len(texts)), 2):
            same_topic, same_cluster = gold[i] == gold[j], labels[i] == labels[j]
            merged += same_cluster and not same_topic
            split += same_topic and not same_cluster
        ari = adjusted_rand_score(gold, labels)
        print(f"{threshold:9.2f}  {ari:5.3f}  {len(set(labels)):8d}  {merged:12d}  {split:11d}")


if __name__ == "__main__":
    main()
