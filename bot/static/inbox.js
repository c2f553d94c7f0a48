// The open conversation: poll new messages, who is typing and the bot's current reasoning every second; take,
// reply (Ctrl+Enter), FAQ answer, give back, close — with Alt+Ü, Alt+B, Alt+E (the "?" help lists them).
(() => {
  "use strict";
  const list = document.getElementById("transcript");
  const id = list.dataset.conversation;
  const base = `/agent/conversations/${id}`;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const error = document.getElementById("error");
  const scroller = document.getElementById("conversation-scroll");
  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };
  let after = Math.max(0, ...[...list.children].map((li) => Number(li.dataset.id)));

  async function call(path, body) {
    error.textContent = "";
    const response = await fetch(base + path, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}), credentials: "same-origin",
    });
    const data = response.status === 204 ? {} : await response.json();
    if (!response.ok) error.textContent = data.error || `Fehler ${response.status}`;
    return response.ok ? data : null;
  }

  const KINDS = { video: "Video", audio: "Audio", file: "Datei" };

  // as bot/templates/agent/_attachments.html: images through the gateway's route (`src`), never the provider's URL
  function attachmentList(files) {
    const ul = document.createElement("ul");
    ul.className = "attachments";
    files.forEach((a) => {
      const item = document.createElement("li");
      item.className = `attachment ${a.kind}`;
      if (a.src) {
        const link = document.createElement("a");
        link.href = a.src;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        const img = document.createElement("img");
        img.src = a.src;
        img.alt = "Bild des Kunden";
        img.loading = "lazy";
        img.className = "thumbnail";
        link.append(img);
        item.append(link);
      } else if (a.kind === "location") {
        item.textContent = `Standort: ${a.latitude}, ${a.longitude}${a.label ? ` (${a.label})` : ""}`;
      } else {
        item.textContent = `${KINDS[a.kind] || a.kind}${a.title ? `: ${a.title}` : ""}${a.content_type ? ` (${a.content_type})` : ""}`;
      }
      ul.append(item);
    });
    return ul;
  }

  function render(m) {
    if (list.querySelector(`[data-id="${m.id}"]`)) return;
    const li = document.createElement("li");
    li.className = `msg ${m.sender}`;
    li.dataset.id = m.id;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${m.sender_label}${m.agent_name ? ` (${m.agent_name})` : ""} · ${m.time_label}`;
    let text;
    if (m.text_html !== undefined) { // the bot's Markdown, rendered and sanitised by the server (bot/markdown_html.py)
      text = document.createElement("div");
      text.className = "text markdown";
      text.innerHTML = m.text_html;
    } else {
      text = document.createElement("span");
      text.className = "text";
      text.textContent = m.text; // customer and agent text: text only, never HTML
    }
    li.append(meta, text);
    if (m.buttons && m.buttons.length) { // as the server-rendered rows show them: [Ja | Nein]
      const buttons = document.createElement("span");
      buttons.className = "buttons";
      buttons.textContent = ` [${m.buttons.map((b) => b.title).join(" | ")}]`;
      li.append(buttons);
    }
    if (m.feedback) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = `Feedback: ${m.feedback}`;
      li.append(badge);
    }
    if (m.cut) {
      const badge = document.createElement("span");
      badge.className = "badge message-cut";
      badge.textContent = `gekürzt: der Bot hat die ersten ${m.cut.kept} von ${m.cut.length} Zeichen gelesen`;
      const full = document.createElement("details");
      full.className = "full-text";
      const summary = document.createElement("summary");
      summary.textContent = "Ganzer Text";
      const body = document.createElement("p");
      body.textContent = m.cut.full_text;
      full.append(summary, body);
      li.append(badge, full);
    }
    if (m.attachments && m.attachments.length) li.append(attachmentList(m.attachments));
    const follow = atBottom();
    list.append(li);
    after = Math.max(after, m.id);
    if (follow || m.sender === "agent") toBottom();
  }

  // the bot's current reasoning, as bot/templates/agent/_reasoning.html renders it
  const reasoning = document.getElementById("reasoning-body");
  let reasoningShown = null;
  function paragraph(label, text, className) {
    const p = document.createElement("p");
    if (className) p.className = className;
    const strong = document.createElement("strong");
    strong.textContent = label;
    p.append(strong, ` ${text}`);
    return p;
  }
  function renderReasoning(r) {
    const key = JSON.stringify(r);
    if (key === reasoningShown) return;
    reasoningShown = key;
    if (!r) {
      const p = document.createElement("p");
      p.textContent = "Der Bot hat in diesem Gespräch noch nichts entschieden.";
      reasoning.replaceChildren(p);
      return;
    }
    const parts = [];
    if (r.question) parts.push(paragraph("Letzte Frage:", `„${r.question}“`, "question"));
    let decided = r.action_label;
    if (r.reason_label) decided += ` – ${r.reason_label}`;
    if (r.confidence) decided += ` (Konfidenz ${r.confidence})`;
    if (r.source === "handoff") decided += " (bei der Übergabe)";
    parts.push(paragraph("Entscheidung:", decided, "decision"));
    if (r.candidates.length) {
      const title = document.createElement("p");
      const strong = document.createElement("strong");
      strong.textContent = "Kandidaten des Bots:";
      title.append(strong);
      const ol = document.createElement("ol");
      ol.className = "candidates";
      r.candidates.forEach((c) => {
        const li = document.createElement("li");
        li.dataset.faq = c.faq_id;
        const question = document.createElement("span");
        question.className = "question";
        question.textContent = c.question;
        li.append(question);
        if (c.score) {
          const score = document.createElement("span");
          score.className = "score";
          score.textContent = c.score;
          li.append(" ", score);
        }
        const send = document.createElement("button");
        send.type = "button";
        send.className = "send-faq";
        send.dataset.faq = c.faq_id;
        send.textContent = "Senden";
        li.append(" ", send);
        ol.append(li);
      });
      parts.push(title, ol);
    } else {
      const none = document.createElement("p");
      none.textContent = "Keine Kandidaten.";
      parts.push(none);
    }
    reasoning.replaceChildren(...parts);
  }
  reasoning.addEventListener("click", async (event) => {
    const button = event.target.closest(".send-faq");
    if (!button) return;
    const sent = await call("/faq", { faq_id: button.dataset.faq });
    if (sent) render(sent);
  });

  async function poll() {
    try {
      const response = await fetch(`${base}/messages?after=${after}`, { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        data.messages.forEach(render);
        document.getElementById("state").textContent = data.state_label;
        fit(data.state, data.assignee_id);
        document.getElementById("typing").textContent = data.typing.includes("contact") ? "Kunde schreibt …" : "";
        renderReasoning(data.reasoning);
      }
    } finally {
      setTimeout(poll, 1000);
    }
  }

  const state = document.getElementById("state");
  const bar = document.getElementById("actions");
  // only the actions that fit: no "Übernehmen" for one's own conversation, nothing for a closed one
  function fit(current, assignee) {
    const mine = current === "with_agent" && String(assignee ?? "") === bar.dataset.me;
    document.getElementById("take").disabled = mine || current === "closed";
    document.getElementById("give-back").disabled = current === "bot" || current === "closed";
    document.getElementById("close").disabled = current === "closed";
  }
  fit(bar.dataset.state, bar.dataset.assignee);
  async function act(path) {
    const done = await call(path);
    if (done && done.state_label) { state.textContent = done.state_label; fit(done.state, done.assignee_id); }
  }
  document.getElementById("take").addEventListener("click", () => act("/take"));
  document.getElementById("give-back").addEventListener("click", () => act("/give-back"));
  document.getElementById("close").addEventListener("click", () => act("/close"));
  const textarea = document.getElementById("reply-text");
  const replyForm = document.getElementById("reply");
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); replyForm.requestSubmit(); }
  });
  // Alt+Ü (the German key; BracketLeft is where it sits), Alt+B, Alt+E: by key or by the key's place
  const SHORTCUTS = { take: ["ü", "BracketLeft"], "give-back": ["b", "KeyB"], close: ["e", "KeyE"] };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const key = (event.key || "").toLowerCase();
    const action = Object.keys(SHORTCUTS).find((id) => SHORTCUTS[id][0] === key || SHORTCUTS[id][1] === event.code);
    if (!action) return;
    event.preventDefault();
    document.getElementById(action).click();
  });
  let typingSent = 0;
  textarea.addEventListener("input", () => {
    if (Date.now() - typingSent > 3000) { typingSent = Date.now(); call("/typing", { typing: true }); }
  });
  replyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    const sent = await call("/reply", { text });
    if (sent) { textarea.value = ""; render(sent); }
  });
  document.getElementById("faq-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("faq-q").value.trim();
    const results = document.getElementById("faq-results");
    if (!q) return;
    const response = await fetch(`/agent/faq?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    const data = await response.json();
    results.replaceChildren(...(data.results || []).map((r) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${r.question} (${r.score})`;
      button.addEventListener("click", async () => { const sent = await call("/faq", { faq_id: r.faq_id }); if (sent) render(sent); });
      li.append(button);
      return li;
    }));
  });
  toBottom();
  poll();
})();
