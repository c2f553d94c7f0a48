// The open conversation: poll new messages every second, take, reply, FAQ answer, give back, close.
(() => {
  "use strict";
  const list = document.getElementById("transcript");
  const id = list.dataset.conversation;
  const base = `/agent/conversations/${id}`;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const error = document.getElementById("error");
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
    list.append(li);
    after = Math.max(after, m.id);
  }

  async function poll() {
    try {
      const response = await fetch(`${base}/messages?after=${after}`, { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        data.messages.forEach(render);
        document.getElementById("state").textContent = data.state_label;
        document.getElementById("typing").textContent = data.typing.includes("contact") ? "Kunde schreibt …" : "";
      }
    } finally {
      setTimeout(poll, 1000);
    }
  }

  document.getElementById("take").addEventListener("click", () => call("/take"));
  document.getElementById("give-back").addEventListener("click", () => call("/give-back"));
  document.getElementById("close").addEventListener("click", () => call("/close"));
  const textarea = document.getElementById("reply-text");
  let typingSent = 0;
  textarea.addEventListener("input", () => {
    if (Date.now() - typingSent > 3000) { typingSent = Date.now(); call("/typing", { typing: true }); }
  });
  document.getElementById("reply").addEventListener("submit", async (event) => {
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
  poll();
})();
