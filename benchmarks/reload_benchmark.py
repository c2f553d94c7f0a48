"""Live reload benchmark: a 200-entry knowledge base, one entry edited, reloaded with the real e5 model.

    .venv/bin/python benchmarks/reload_benchmark.py [--entries 200] [--runs 7] [--skip-live] [--json OUT]

1. In-process: `KnowledgeBase.refresh()` after editing one entry (its answer, then one of its alternatives,
   alternating), median of `--runs`; the cold build (everything embedded) is reported once for scale.
2. End-to-end: Rasa + `python -m actions.server` on free ports and the gateway in this process, all on the
   same temporary FAQ folder; an editor's `POST /admin/kb/reload` over real HTTP reloads both processes.
3. Edit → answer: the time from saving the file (nobody presses reload; the action server's watcher) until a
   new customer asking Rasa gets the edited answer, polled every 0.1 s.

The knowledge base is the demo FAQ plus generated entries in a temporary folder (nothing in the repository
changes); the base model serves (`AUSKUNFT_USE_TRAINED_MODEL=false`), as it does right after an edit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.integrations.faq_search import KnowledgeBaseSearch  # noqa: E402
from bot.integrations.rasa_client import RasaClient  # noqa: E402
from bot.models import Role  # noqa: E402
from bot.web import auth  # noqa: E402
from knowledge_base.authoring.faq_files import load_faqs  # noqa: E402
from knowledge_base.engine import KnowledgeBase  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402
from rasa_runtime import training  # noqa: E402
from rasa_runtime.processes import Services  # noqa: E402
from rasa_runtime.processes import Settings as RasaSettings  # noqa: E402
from tests.support.databases import migrate  # noqa: E402

PASSWORD = "geheim-genug-123"
PRODUCTS = ["Wollmantel", "Leinenhemd", "Ledersneaker", "Bettwäsche-Set", "Strickpullover", "Jeans", "Regenjacke",
            "Badetuch", "Sommerkleid", "Wanderschuh", "Daunenkissen", "Seidenschal", "Chino", "Tischdecke",
            "Gummistiefel", "Kaschmirmütze", "Frotteebademantel", "Leinenvorhang", "Steppdecke", "Trenchcoat",
            "Laufschuh", "Flanellhemd", "Wolldecke", "Ledergürtel", "Sporttop", "Sofakissen", "Halbschuh", "Parka",
            "Pyjama", "Fleecejacke"]
ASPECTS = [
    ("pflege", "Wie pflege ich {p}?", ["{p} waschen", "Kann {p} in den Trockner?", "Pflegehinweise {p}"],
     "{P} waschen Sie bei höchstens {n} Grad im Schonwaschgang; bitte nicht in den Trockner."),
    ("groesse", "Wie fällt {p} aus?", ["Größentabelle {p}", "Ist {p} eher klein?", "welche Größe für {p}"],
     "{P} fällt normal aus; unsere Größentabelle auf der Produktseite nennt die Maße in Zentimetern ({n} Größen)."),
    ("material", "Woraus besteht {p}?", ["Material von {p}", "Ist {p} aus Bio-Baumwolle?", "{p} Zusammensetzung"],
     "{P} besteht zu {n} % aus zertifizierten Naturfasern; die genaue Zusammensetzung steht auf dem Etikett."),
    ("verfuegbar", "Wann ist {p} wieder lieferbar?", ["{p} ausverkauft", "Nachlieferung {p}",
                                                       "Bekommt ihr {p} wieder rein?"],
     "{P} erwarten wir in etwa {n} Wochen zurück; mit „Benachrichtigen“ erfahren Sie es per E-Mail zuerst."),
    ("garantie", "Welche Garantie gibt es auf {p}?", ["Garantie {p}", "{p} kaputt nach Monaten",
                                                      "Gewährleistung {p}"],
     "Auf {p} gelten {n} Jahre Gewährleistung; melden Sie einen Mangel mit Foto über Ihr Kundenkonto."),
    ("nachhaltig", "Ist {p} nachhaltig produziert?", ["{p} fair produziert", "Siegel bei {p}",
                                                      "Wo wird {p} hergestellt?"],
     "{P} wird in Europa gefertigt und trägt das GOTS-Siegel; der Lieferant wird jährlich geprüft ({n} Audits)."),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def slug(text: str) -> str:
    text = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def generated_entries(count: int) -> str:
    """`count` entries (question, 3 alternatives, answer) about the shop's products, as one topic file."""
    lines = ["topic: Produkte im Detail", "faqs:"]
    made = 0
    for product in PRODUCTS:
        for key, question, alternatives, answer in ASPECTS:
            if made == count:
                break
            fill = {"p": product, "P": product, "n": 20 + made % 40}
            lines += [f"  - id: {slug(product)}-{key}", f"    question: {question.format(**fill)}", "    alternatives:"]
            lines += [f"      - {alt.format(**fill)}" for alt in alternatives]
            lines += [f"    answer: {answer.format(**fill)}", "    updated: 2026-11-25"]
            made += 1
    if made < count:
        raise ValueError(f"at most {len(PRODUCTS) * len(ASPECTS)} generated entries")
    return "\n".join(lines) + "\n"


def make_knowledge_base(folder: Path, entries: int) -> Path:
    faq_dir = shutil.copytree(ROOT / "knowledge_base" / "faqs", folder / "faqs")
    demo = len(load_faqs(faq_dir).entries)
    (faq_dir / "produkte.yml").write_text(generated_entries(entries - demo), encoding="utf-8")
    collection = load_faqs(faq_dir)
    assert not collection.errors and len(collection.entries) == entries, collection.errors[:3]
    return faq_dir


class Editor:
    """Edits one generated entry: its answer on even rounds, its first alternative on odd ones."""

    def __init__(self, faq_file: Path) -> None:
        self.file = faq_file
        self.round = 0

    def edit(self) -> str:
        text = self.file.read_text(encoding="utf-8")
        marker = f"(Stand {self.round})"
        if self.round % 2 == 0:
            text, done = re.subn(r"(Schonwaschgang; bitte nicht in den Trockner\.)( \(Stand \d+\))?",
                                 rf"\1 {marker}", text, count=1)
        else:
            text, done = re.subn(r"(      - .* waschen)( \(Stand \d+\))?\n", rf"\1 {marker}\n", text, count=1)
        assert done == 1
        self.file.write_text(text, encoding="utf-8")
        self.round += 1
        return marker


def in_process(faq_dir: Path, index_dir: Path, runs: int) -> dict[str, Any]:
    settings = Settings(faq_dir=faq_dir, index_dir=index_dir, use_trained_model=False)
    kb = KnowledgeBase(settings)
    started = time.perf_counter()
    cold = kb.refresh()
    cold_seconds = time.perf_counter() - started
    warm = kb.ask("Wie pflege ich Wollmantel?")  # first question: torch and spaCy warm
    print(f"'Wie pflege ich Wollmantel?' → {warm.action} {warm.faq_id} {warm.confidence:.3f}", file=sys.stderr)
    editor = Editor(faq_dir / "produkte.yml")
    results = []
    for _ in range(runs):
        editor.edit()
        result = kb.refresh()
        assert result.accepted and len(result.changed) == 1, result
        results.append(result)
    totals = [r.seconds["total"] for r in results]
    return {
        "entries": cold.entries,
        "texts": cold.texts,
        "cold_build_seconds": round(cold_seconds, 2),
        "cold_embedded": cold.embedded,
        "reload_seconds_median": round(statistics.median(totals), 3),
        "reload_seconds_max": round(max(totals), 3),
        "load_and_lint_median": round(statistics.median(r.seconds["load_and_lint"] for r in results), 3),
        "index_median": round(statistics.median(r.seconds["index"] for r in results), 3),
        "embedded_per_reload": sorted({r.embedded for r in results}),
        "reload_seconds_each": [round(t, 3) for t in totals],
        "runs": runs,
    }


def live(faq_dir: Path, index_dir: Path, work: Path, runs: int) -> dict[str, Any]:
    training.ensure_trained()
    env = {"AUSKUNFT_FAQ_DIR": str(faq_dir), "AUSKUNFT_INDEX_DIR": str(index_dir),
           "AUSKUNFT_USE_TRAINED_MODEL": "false", "AUSKUNFT_FEEDBACK_DB": str(work / "feedback.db"),
           "AUSKUNFT_ORDERS_DB": str(work / "orders.db"), "AUSKUNFT_ORDER_API_URL": ""}
    rasa = RasaSettings(rasa_port=free_port(), actions_port=free_port(), tracker_db=work / "trackers.db",
                        log_dir=work, extra_env=env)
    kb_settings = Settings(faq_dir=faq_dir, index_dir=index_dir, use_trained_model=False)
    with Services(rasa) as services:
        services.wait_until_ready()
        migrate(url := f"sqlite:///{work / 'gateway.db'}")
        app = create_app({
            "SECRET_KEY": "bench", "DATABASE_URL": url,
            "RASA_CLIENT": RasaClient(rasa.rasa_url), "ACTIONS_URL": rasa.actions_url,
            "FAQ_SEARCH": KnowledgeBaseSearch(lambda: KnowledgeBase(kb_settings), watch=True),
        })
        with app.app_context():
            auth.create_agent("redaktion@example.com", "Redaktion", PASSWORD, Role.EDITOR)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            http = requests.Session()
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                             http.get(f"{base}/agent/login").text).group(1)  # type: ignore[union-attr]
            http.post(f"{base}/agent/login", data={"email": "redaktion@example.com", "password": PASSWORD,
                                                   "csrf_token": csrf}).raise_for_status()
            headers = {"X-CSRFToken": csrf, "Accept": "application/json"}
            http.post(f"{base}/admin/kb/reload", headers=headers, timeout=300).raise_for_status()  # loads the gateway's
            editor = Editor(faq_dir / "produkte.yml")
            endpoint, processes = [], []
            for _ in range(runs):
                editor.edit()
                started = time.perf_counter()
                response = http.post(f"{base}/admin/kb/reload", headers=headers, timeout=120)
                endpoint.append(time.perf_counter() - started)
                body = response.json()
                assert response.status_code == 200, body
                processes.append({name: body["processes"][name]["seconds"]["total"] for name in ("gateway", "actions")})
                time.sleep(1.0)  # let the watchers' own (no-op) reloads pass
            edit_to_answer = []
            question = "Wie pflege ich Wollmantel?"
            for _ in range(max(3, runs // 2)):
                marker = editor.edit()
                if editor.round % 2 == 0:  # that was an alternative: edit the answer, which the customer sees
                    marker = editor.edit()
                started = time.perf_counter()
                while marker not in ask(rasa.rasa_url, question):
                    if time.perf_counter() - started > 60:
                        raise RuntimeError("the edited answer did not arrive within 60 s")
                    time.sleep(0.1)
                edit_to_answer.append(time.perf_counter() - started)
        finally:
            server.shutdown()
            app.config["FAQ_SEARCH"].close()
    return {
        "endpoint_seconds_median": round(statistics.median(endpoint), 3),
        "endpoint_seconds_max": round(max(endpoint), 3),
        "gateway_reload_median": round(statistics.median(p["gateway"] for p in processes), 3),
        "actions_reload_median": round(statistics.median(p["actions"] for p in processes), 3),
        "edit_to_answer_seconds_median": round(statistics.median(edit_to_answer), 2),
        "edit_to_answer_seconds_max": round(max(edit_to_answer), 2),
        "endpoint_seconds_each": [round(t, 3) for t in endpoint],
        "processes_each": processes,
        "edit_to_answer_seconds_each": [round(t, 2) for t in edit_to_answer],
        "runs": runs,
    }


def ask(rasa_url: str, question: str) -> str:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook",
                             json={"sender": f"bench-{uuid.uuid4().hex[:8]}", "message": question}, timeout=60)
    return " ".join(reply.get("text", "") for reply in response.json())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-live", action="store_true", help="only the in-process reload")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    os.environ.setdefault("AUSKUNFT_TORCH_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="reload-bench-") as tmp:
        work = Path(tmp)
        faq_dir = make_knowledge_base(work, args.entries)
        index_dir = work / "index"
        results: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
        results["in_process"] = in_process(faq_dir, index_dir, args.runs)
        print(json.dumps(results, indent=1), flush=True)
        if not args.skip_live:
            results["end_to_end"] = live(faq_dir, index_dir, work, args.runs)
        results["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
