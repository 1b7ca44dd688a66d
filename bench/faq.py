"""Benchmark: FAQ matcher accuracy and latency, against plain rapidfuzz extractOne.

Accuracy (top-1 / top-3: the expected article first / among the first three):
  * the English questions of the Bitext customer-support sample (``../shared/data/bitext``),
    whose intent names are our demo slugs;
  * the BANKING77 test questions (``../shared/data/banking77``) whose intents map to ours
    (``bench/faq_data/banking77_intents.json``);
  * our multilingual questions with typos (``bench/faq_data/typo_queries.json``, 9 languages),
    each asked with the reader's language set to the query's language.
Latency per query (p50/p95, ms, one thread) of ``FaqIndex.search`` at the demo size (27
articles × 9 languages, ``demo_data/faq``) and at N generated articles × 9 languages (plus
the demo ones; default 10,000), with the same queries through
``rapidfuzz.process.extractOne(query, raw_questions)`` (default scorer WRatio, no
preprocessing, every question of every language) as the reference in the same run.

    .venv/bin/python bench/faq.py [--quick] [--articles N]

Also the time to refresh the index after one article is edited (``FaqIndex.replaced``:
that article's versions analysed again, every other one reused), against building it whole.

The last line reads ``faq top1=... top3=... p95_ms=... ratio_vs_extractone=...``: top-1/3
on Bitext English, p95 at the large size, and our p95 over the reference's at that size
(then ``edit_ms``, the refresh after one edit at that size, and other figures).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from orders import machine  # noqa: E402  (bench/orders.py: the machine line of every benchmark)
from rapidfuzz import process  # noqa: E402

from faq.matcher import Entry, FaqIndex  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = ROOT / "bench" / "faq_data"
LANGUAGES = ("en", "zh-Hans", "zh-Hant", "ja", "es", "pt", "de", "fr", "ar")


def demo_entries() -> list[Entry]:
    entries = []
    for path in sorted((ROOT / "demo_data" / "faq").glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["articles"]:
            for v in article["versions"]:
                entries.append(Entry(article["slug"], v["lang"], v["question"], tuple(v.get("phrasings", ())),
                                     tuple(v.get("keywords", ()))))
    return entries


def generated_entries(count: int, demo: list[Entry], seed: int = 7) -> list[Entry]:
    """``count`` articles in each demo language, made of words of that language's demo
    articles in random order with a model number (never asked for: distractors)."""
    rng = random.Random(seed)
    entries = []
    for lang in LANGUAGES:
        words = sorted({w for e in demo if e.lang == lang for text in (e.title, *e.phrasings) for w in text.split()})
        if lang in ("zh-Hans", "zh-Hant", "ja"):  # no spaces: take runs of characters
            words = sorted({t[i:i + 3] for e in demo if e.lang == lang for t in (e.title, *e.phrasings)
                            for i in range(0, max(1, len(t) - 2), 2)})
        for i in range(count):
            def sentence(n):
                return " ".join(rng.choice(words) for _ in range(n)) + f" {rng.randrange(100, 99999)}"
            entries.append(Entry(f"gen_{i:05d}", lang, sentence(rng.randint(4, 8)),
                                 (sentence(rng.randint(3, 7)), sentence(rng.randint(3, 7))),
                                 tuple(rng.choice(words) for _ in range(3))))
    return entries


def bitext_queries(limit: int | None, seed: int = 1) -> list[tuple[str, str, str]]:
    with open(SHARED / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv", encoding="utf-8") as f:
        rows = [(r["instruction"], "en", r["intent"]) for r in csv.DictReader(f)]
    return random.Random(seed).sample(rows, limit) if limit and limit < len(rows) else rows


def banking_queries(limit: int | None, seed: int = 1) -> list[tuple[str, str, str]]:
    mapping = {k: v for k, v in json.loads((DATA / "banking77_intents.json").read_text()).items() if not k.startswith("_")}
    with open(SHARED / "banking77" / "test.csv", encoding="utf-8") as f:
        rows = [(r["text"], "en", mapping[r["category"]]) for r in csv.DictReader(f) if r["category"] in mapping]
    return random.Random(seed).sample(rows, limit) if limit and limit < len(rows) else rows


def typo_queries() -> list[tuple[str, str, str]]:
    data = json.loads((DATA / "typo_queries.json").read_text(encoding="utf-8"))
    return [(q, lang, slug) for lang, pairs in data.items() if not lang.startswith("_") for q, slug in pairs]


def accuracy(index: FaqIndex, queries) -> tuple[float, float]:
    top1 = top3 = 0
    for query, lang, expected in queries:
        slugs = [m.slug for m in index.search(query, lang, limit=3)]
        top1 += slugs[:1] == [expected]
        top3 += expected in slugs
    return top1 / len(queries), top3 / len(queries)


def reference_accuracy(questions: list[str], owners: list[str], queries) -> float:
    hits = 0
    for query, _lang, expected in queries:
        best = process.extractOne(query, questions)
        hits += best is not None and owners[best[2]] == expected
    return hits / len(queries)


def latencies(search, queries) -> list[float]:
    times = []
    for query, lang, _ in queries:
        start = time.perf_counter()
        search(query, lang)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(label: str, entries: list[Entry], queries) -> tuple[float, float, float]:
    start = time.perf_counter()
    index = FaqIndex(entries)
    built = time.perf_counter() - start
    edited = [e for e in entries if e.slug == "track_order"]
    start = time.perf_counter()
    index.replaced({"track_order"}, [Entry(e.slug, e.lang, e.title, e.phrasings + ("edited",), e.keywords)
                                     for e in edited])
    edit_ms = (time.perf_counter() - start) * 1000
    questions = [e.title for e in entries]
    index.search("warm up", "en")
    ours = latencies(lambda q, lang: index.search(q, lang, limit=3), queries)
    ref = latencies(lambda q, _lang: process.extractOne(q, questions), queries)
    print(f"{label}: {len(entries):,} versions, index built in {built:.1f} s, refreshed after one edit "
          f"({len(edited)} versions) in {edit_ms:.1f} ms; {len(queries)} queries")
    print(f"  matcher      p50 {p(ours, 50):7.2f} ms  p95 {p(ours, 95):7.2f} ms")
    print(f"  extractOne   p50 {p(ref, 50):7.2f} ms  p95 {p(ref, 95):7.2f} ms  (reference)")
    return p(ours, 95), p(ref, 95), edit_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200-question samples, 400 generated articles per language")
    parser.add_argument("--articles", type=int, default=None, help="generated articles per language (default 10000)")
    args = parser.parse_args()
    size = args.articles or (400 if args.quick else 10_000)
    sample = 200 if args.quick else None

    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    demo = demo_entries()
    index = FaqIndex(demo)
    questions, owners = [e.title for e in demo], [e.slug for e in demo]
    sets = {"bitext_en": bitext_queries(sample), "banking77_en": banking_queries(sample), "typos_9_languages": typo_queries()}
    figures = {}
    for name, queries in sets.items():
        top1, top3 = accuracy(index, queries)
        ref1 = reference_accuracy(questions, owners, queries)
        figures[name] = (top1, top3)
        print(f"{name}: {len(queries)} queries  top1 {top1:.3f}  top3 {top3:.3f}  (extractOne top1 {ref1:.3f})")
    by_language = {}
    for query in sets["typos_9_languages"]:
        by_language.setdefault(query[1], []).append(query)
    print("typos by language (top1/top3): " + ", ".join(
        f"{lang} {a:.2f}/{b:.2f}" for lang, qs in by_language.items() for a, b in [accuracy(index, qs)]))

    timed = sets["typos_9_languages"] + sets["bitext_en"][:100 if args.quick else 300]
    measure("demo size", demo, timed)
    big = generated_entries(size, demo) + demo
    p95, ref95, edit_ms = measure(f"{size:,} generated articles x {len(LANGUAGES)} languages + demo", big, timed)
    big_top1, _ = accuracy(FaqIndex(big), sets["typos_9_languages"])
    print(f"typos_9_languages at that size: top1 {big_top1:.3f}")
    top1, top3 = figures["bitext_en"]
    print(f"faq top1={top1:.3f} top3={top3:.3f} p95_ms={p95:.2f} ratio_vs_extractone={p95 / ref95:.2f} edit_ms={edit_ms:.1f} "
          f"banking77_top1={figures['banking77_en'][0]:.3f} typos_top1={figures['typos_9_languages'][0]:.3f} "
          f"articles={size}")


if __name__ == "__main__":
    main()
