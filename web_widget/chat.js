// The chat inside the iframe: one conversation per browser (token in localStorage, so a reload or a second tab
// continues it), messages pushed over Server-Sent Events with polling as the fallback.
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const T = (window.AuskunftTexts[params.get("lang")] || window.AuskunftTexts.de);
  const hostOrigin = params.get("origin");
  const api = "/api/widget/conversations";
  const log = document.getElementById("log");
  const input = document.getElementById("input");
  const typing = document.getElementById("typing");
  const KEY = "auskunft.token";
  let token = null;
  let after = 0;
  let state = "bot";
  let source = null; // the open EventSource, closed when its conversation ends
  let generation = 0; // bumped per conversation, so a polling loop of an ended one stops
  const seen = new Set();
  let fields = 0; // ids for the labels of the one-field forms

  document.getElementById("title").textContent = params.get("title") || "Kundenservice";
  if (/^#[0-9a-fA-F]{3,8}$/.test(params.get("color") || "")) document.body.style.setProperty("--color", params.get("color"));
  input.placeholder = T.placeholder;
  document.getElementById("send").textContent = T.send;
  document.getElementById("close").setAttribute("aria-label", T.close);
  document.getElementById("mail").setAttribute("aria-label", T.mailTranscript);
  document.getElementById("mail").title = T.mailTranscript;
  document.getElementById("mail").addEventListener("click", () => {
    if (!token) { system(T.mailNothingYet); return; }
    if (log.querySelector(".transcript-form")) return;
    const form = fieldForm(T.mailLabel, T.send, (value) => ({ email: value }), "transcript",
      (status, body) => (status === 400 ? T.mailInvalid : status === 429 ? T.tooMany
        : body.reason === "daily_cap" ? T.mailDailyCap : status === 503 ? T.mailUnavailable : T.mailFailed));
    log.append(form);
    form.querySelector("input").focus();
    log.scrollTop = log.scrollHeight;
  });
  document.getElementById("rate").setAttribute("aria-label", T.rate);
  document.getElementById("rate").title = T.rate;
  document.getElementById("rate").addEventListener("click", () => {
    if (!token) { system(T.rateNothingYet); return; }
    if (log.querySelector(".rating")) return;
    system(T.rateQuestion);
    log.append(buttonRow([1, 2, 3, 4, 5].map((n) => ({ title: String(n), payload: `/csat{"score":${n}}` })), token));
    log.scrollTop = log.scrollHeight;
  });
  document.getElementById("close").addEventListener("click", () => {
    if (hostOrigin) parent.postMessage({ type: "auskunft:close" }, hostOrigin);
  });
  window.addEventListener("message", (event) => {
    if (event.origin === hostOrigin && event.data && event.data.type === "auskunft:focus") input.focus();
  });

  function system(text) {
    const li = document.createElement("li");
    li.className = "msg system";
    li.textContent = text;
    log.append(li);
  }

  function render(m) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    after = Math.max(after, m.id);
    const li = document.createElement("li");
    li.className = `msg ${m.sender}`;
    // a notice that asks something of the customer (the handoff's: buttons, contact form) reads as an answer
    if (m.sender === "system" && ((m.buttons && m.buttons.length) || m.contact_form)) li.classList.add("notice");
    li.dataset.id = m.id;
    if (m.sender === "contact" || m.sender === "system") {
      li.textContent = m.text; // customer text is text, never HTML
    } else {
      if (m.sender === "agent") {
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = m.agent_name ? `${m.agent_name} · ${T.agent}` : T.agent;
        li.append(who);
      }
      li.append(window.AuskunftMarkdown.render(m.text));
    }
    log.append(li);
    if (m.buttons && m.buttons.length) log.append(buttonRow(m.buttons, token));
    if (m.contact_form) {
      // Nobody can take over now: the customer may leave an e-mail address or phone number for a call back.
      log.append(fieldForm(T.contactLabel, T.contactSend, (value) => (value.includes("@") ? { email: value } : { phone: value }),
        "contact", () => T.contactInvalid));
    }
    log.scrollTop = log.scrollHeight;
  }

  function buttonRow(buttons, owner) {
    // Quick replies. A rating (/csat…) goes to the conversation that asked (`owner`), even once it is closed
    // and forgotten here: it is the one message a closed conversation accepts.
    const row = document.createElement("li");
    row.className = "buttons";
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => { row.remove(); (b.payload.startsWith("/csat") ? rate : send)(b.title, b.payload, owner); });
      row.append(button);
      if (b.payload.startsWith("/csat")) row.classList.add("rating");
    }
    return row;
  }

  async function rate(title, payload, owner) {
    const body = { text: title, payload, client_id: `r-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` };
    const result = await json(`${api}/${owner}/messages`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).catch(() => ({ ok: false, status: 0 }));
    if (result.ok) result.body.messages.forEach(render); else system(result.status === 429 ? T.tooMany : T.error);
  }

  function fieldForm(labelText, buttonText, toBody, path, errorText) {
    // One field in the log, posted to `${token}/${path}`; on success it goes and the reply's messages show.
    const li = document.createElement("li");
    const form = document.createElement("form");
    form.className = `field-form ${path}-form`;
    const id = `field-${++fields}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelText;
    const field = document.createElement("input");
    field.id = id;
    field.maxLength = 320;
    field.autocomplete = "email";
    const button = document.createElement("button");
    button.type = "submit";
    button.textContent = buttonText;
    const error = document.createElement("p");
    error.setAttribute("role", "alert");
    form.append(label, field, button, error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = field.value.trim();
      if (!value || !token) return;
      const result = await json(`${api}/${token}/${path}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(toBody(value)),
      }).catch(() => ({ ok: false, status: 0 }));
      if (result.ok) { li.remove(); result.body.messages.forEach(render); } else { error.textContent = errorText(result.status, result.body || {}); }
    });
    li.append(form);
    return li;
  }

  function showTyping(who) {
    typing.textContent = who.includes("agent") ? T.typingAgent : who.includes("bot") ? T.typingBot : "";
  }

  async function json(url, options) {
    const response = await fetch(url, options);
    const body = response.status === 204 ? {} : await response.json();
    return { ok: response.ok, status: response.status, body };
  }

  async function begin() {
    token = localStorage.getItem(KEY);
    const result = token ? await json(`${api}/${token}`) : null;
    system(params.get("greeting") || T.greeting);
    if (result && result.ok && result.body.state !== "closed") {
      state = result.body.state;
      result.body.messages.forEach(render);
      listen();
    } else {
      localStorage.removeItem(KEY); // unknown or closed; the first message starts a conversation, not every page view
      token = null;
    }
  }

  async function start() {
    const result = await json(api, { method: "POST" });
    if (!result.ok) throw Object.assign(new Error(`start: ${result.status}`), { status: result.status });
    token = result.body.token;
    state = result.body.state;
    after = 0;
    localStorage.setItem(KEY, token);
    listen();
  }

  function setState(next) {
    if (next === "closed" && state !== "closed" && token) { system(T.closed); stop(); }
    state = next;
  }

  function stop() {
    // The conversation ended (closed by an agent): forget it; the next message starts a new one.
    generation++;
    if (source) source.close();
    source = null;
    token = null;
    localStorage.removeItem(KEY);
  }

  function listen() {
    generation++;
    if (!window.EventSource) return poll(generation);
    source = new EventSource(`${api}/${token}/events?after=${after}`);
    let failures = 0;
    source.addEventListener("message", (event) => { failures = 0; render(JSON.parse(event.data)); });
    source.addEventListener("typing", (event) => showTyping(JSON.parse(event.data).typing));
    source.addEventListener("state", (event) => setState(JSON.parse(event.data).state));
    const current = source;
    current.onerror = () => {
      // proxies that buffer SSE: fall back to polling
      if (++failures >= 3 && current === source) { current.close(); source = null; poll(generation); }
    };
  }

  async function poll(mine) {
    if (mine !== generation) return;
    try {
      const result = await json(`${api}/${token}/messages?after=${after}`);
      if (result.ok) { result.body.messages.forEach(render); showTyping(result.body.typing); setState(result.body.state); }
    } finally {
      setTimeout(() => poll(mine), 1000);
    }
  }

  async function send(text, payload) {
    const body = { text, client_id: `c-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` };
    if (payload) body.payload = payload;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!token) await start();
        const result = await json(`${api}/${token}/messages`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        if (result.status === 409) { system(T.closed); stop(); continue; } // closed meanwhile: send in a new one
        if (result.ok) { result.body.messages.forEach(render); return; }
        if (result.status === 429) { system(T.tooMany); return; } // throttled: the customer waits, no resend
        break;
      } catch (error) {
        // throttled start: say so; else the network: resend with the same client_id, stored once
        if (error.status === 429) { system(T.tooMany); return; }
      }
    }
    system(T.error);
  }

  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); document.getElementById("composer").requestSubmit(); }
  });
  begin();
})();
