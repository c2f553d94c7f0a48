// Internal notes (agent/_notes.html): add one, and show colleagues' new notes and transfers every 3 s.
// Notes are text only (textContent), never HTML.
(() => {
  "use strict";
  const section = document.getElementById("notes");
  if (!section) return;
  const base = `/agent/conversations/${section.dataset.conversation}/notes`;
  const list = document.getElementById("notes-list");
  const textarea = document.getElementById("note-text");
  const error = document.getElementById("note-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let after = Math.max(0, ...[...list.children].map((li) => Number(li.dataset.id)));

  function render(n) {
    if (list.querySelector(`[data-id="${n.id}"]`)) return;
    const li = document.createElement("li");
    li.className = `note ${n.kind}`;
    li.dataset.id = n.id;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${n.kind_label} · ${n.author_name} · ${n.time_label}`;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = n.text;
    li.append(meta, text);
    list.append(li);
    after = Math.max(after, n.id);
  }

  document.getElementById("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    error.textContent = "";
    const response = await fetch(base, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text }), credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) { error.textContent = data.error || `Fehler ${response.status}`; return; }
    textarea.value = "";
    render(data);
  });

  async function poll() {
    try {
      const response = await fetch(`${base}?after=${after}`, { credentials: "same-origin" });
      if (response.ok) (await response.json()).notes.forEach(render);
    } finally {
      setTimeout(poll, 3000);
    }
  }
  setTimeout(poll, 3000);
})();
