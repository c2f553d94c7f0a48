// The editors' FAQ page: the try-it box answers inline, the reload button reports without leaving the page.
// Without JS both are plain forms (GET /admin/faq/try, POST /admin/kb/reload). Text is inserted as text only; the
// answer is the server's sanitised HTML.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function entryLink(faqId) {
    const a = el("a", faqId);
    a.href = `/admin/faq/entries/${encodeURIComponent(faqId)}`;
    return a;
  }

  function renderReport(report) {
    const box = el("div", undefined, "try-report");
    box.dataset.decision = report.decision;
    const line = el("p");
    line.append(el("strong", report.decision_label, "decision"), ` (Konfidenz `,
      el("span", report.confidence.toFixed(3), "confidence"), `; ${report.reason_label})`);
    if (report.faq_id) line.append(" → ", entryLink(report.faq_id));
    if (report.options.length) line.append(` – Rückfrage mit: ${report.options.join(", ")}`);
    box.append(line);
    if (report.candidates.length) {
      const table = el("table", undefined, "candidates");
      const head = table.createTHead().insertRow();
      for (const title of ["FAQ", "Wert", "Formulierung", "Antwort", "Wörter", "Frage"]) head.append(el("th", title));
      const body = table.createTBody();
      for (const c of report.candidates) {
        const row = body.insertRow();
        row.insertCell().append(entryLink(c.faq_id));
        for (const value of [c.score.toFixed(3), c.question_similarity.toFixed(3), c.answer_similarity.toFixed(3),
          c.lexical.toFixed(2), c.question]) row.insertCell().textContent = value;
      }
      box.append(table);
    }
    if (report.answer_html) { // rendered and sanitised by the server (bot/markdown_html.py), as the customer sees it
      const answer = el("div", undefined, "answer markdown");
      answer.innerHTML = report.answer_html;
      box.append(answer);
    }
    return box;
  }

  const tryForm = document.querySelector("form.try-box");
  const tryResult = document.getElementById("try-result");
  if (tryForm && tryResult) {
    tryForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const q = tryForm.elements.q.value.trim();
      if (!q) return;
      tryResult.replaceChildren(el("p", "…"));
      const response = await fetch(`${tryForm.dataset.json}?q=${encodeURIComponent(q)}`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      const data = await response.json();
      tryResult.replaceChildren(response.ok ? renderReport(data) : el("p", data.error || `Fehler ${response.status}`, "failed"));
    });
  }

  const reloadForm = document.getElementById("reload-form");
  const reloadResult = document.getElementById("reload-result");
  if (reloadForm && reloadResult) {
    reloadForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = reloadForm.querySelector("button");
      button.disabled = true;
      reloadResult.replaceChildren(el("p", "Lädt …"));
      try {
        const response = await fetch(reloadForm.action, {
          method: "POST", credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrf },
        });
        const data = await response.json();
        reloadResult.replaceChildren(renderReload(response.status, data));
        if (response.ok) document.getElementById("kb-entries").textContent = data.processes.gateway.entries;
      } finally {
        button.disabled = false;
      }
    });
  }

  function renderReload(status, data) {
    const box = el("div", undefined, status === 200 ? "ok" : "failed");
    box.id = "reload-report";
    box.dataset.status = status;
    if (data.error && !data.processes) {
      box.append(el("p", data.error));
      return box;
    }
    const gateway = data.processes.gateway;
    const actions = data.processes.actions;
    const summary = status === 200
      ? `Übernommen: ${gateway.entries} Einträge, ${gateway.embedded} Texte neu eingebettet, ${data.seconds.toFixed(1)} s.`
      : status === 422
        ? `Nicht übernommen: ${data.errors} Fehler. Der Bot antwortet weiter mit dem letzten fehlerfreien Stand.`
        : `Im Posteingang übernommen, beim Bot nicht: ${actions.error}`;
    box.append(el("p", summary, "summary"));
    const changes = [["neu", gateway.added], ["geändert", gateway.changed], ["entfernt", gateway.removed]]
      .filter(([, ids]) => ids.length).map(([label, ids]) => `${label}: ${ids.join(", ")}`);
    if (changes.length) box.append(el("p", changes.join(" · ")));
    if (data.findings.length) {
      // errors are what the editor came for: open; warnings alone (collisions, SMS length) folded
      const details = el("details");
      details.open = data.errors > 0;
      details.append(el("summary", `Prüfbericht: ${data.errors} Fehler, ${data.warnings} Warnungen`));
      const list = el("ul", undefined, "findings");
      for (const f of data.findings) {
        list.append(el("li", `${f.file}:${f.line}: ${f.severity === "error" ? "Fehler" : "Warnung"}: ${f.message}`,
          f.severity));
      }
      details.append(list);
      box.append(details);
    }
    return box;
  }
})();
