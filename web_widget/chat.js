// The chat inside the iframe: one conversation per browser (token in localStorage, so a reload or a second tab
// continues it), messages pushed over Server-Sent Events with polling as the fallback. Only the latest quick
// replies or form are live (earlier ones were answered or superseded); the host page's launcher counts what
// arrives while the chat is closed; the customer's typing goes to the agent.
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
  let live = false; // history shown: messages rendered from now on are new to the customer
  let atEnd = true; // the log is scrolled to its newest message (kept there while it is)

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
      (status, body) => (status === 400 ? T.mailInvalid : status === 429 || status === 0 ? failure({ status, body })
        : body.reason === "daily_cap" ? T.mailDailyCap : status === 503 ? T.mailUnavailable : T.mailFailed));
    log.append(form);
    form.querySelector("input").focus();
    toEnd();
  });
  document.getElementById("rate").setAttribute("aria-label", T.rate);
  document.getElementById("rate").title = T.rate;
  document.getElementById("rate").addEventListener("click", () => {
    if (!token) { system(T.rateNothingYet); return; }
    if (log.querySelector(".rating:not(.answered)")) return;
    system(T.rateQuestion);
    log.append(buttonRow([1, 2, 3, 4, 5].map((n) => ({ title: String(n), payload: `/csat{"score":${n}}` })), token));
    settle();
    toEnd();
  });
  document.getElementById("close").addEventListener("click", () => {
    if (hostOrigin) parent.postMessage({ type: "auskunft:close" }, hostOrigin);
  });
  window.addEventListener("message", (event) => {
    if (event.origin === hostOrigin && event.data && event.data.type === "auskunft:focus") { toEnd(); input.focus(); }
  });
  // While the frame is hidden (the launcher closed) the log has no height and cannot scroll: when it gets one
  // (opened, resized), it shows the newest message again unless the customer had scrolled up.
  log.addEventListener("scroll", () => { atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 40; });
  new ResizeObserver(() => { if (atEnd) log.scrollTop = log.scrollHeight; }).observe(log);

  function toEnd() {
    log.scrollTop = log.scrollHeight;
    atEnd = true;
  }

  function legalLine(config) {
    // The privacy line: the shop's links from the script tag (data-privacy-url, data-imprint-url), else the
    // gateway's settings (AUSKUNFT_PRIVACY_URL, AUSKUNFT_IMPRINT_URL); web addresses only.
    const line = document.getElementById("legal");
    const links = [[params.get("privacy") || config.privacy_url, T.privacy], [params.get("imprint") || config.imprint_url, T.imprint]]
      .filter(([url]) => /^https?:\/\//i.test(url || ""));
    if (!links.length) return;
    for (const [url, label] of links) {
      if (line.childNodes.length) line.append(" · ");
      const a = document.createElement("a");
      a.href = url;
      a.textContent = label;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      line.append(a);
    }
    line.hidden = false;
  }

  function settle() {
    // Quick replies and forms: only the latest set is live, and only until the customer writes (or an agent
    // does, or the set is answered). The same rule after a reload, so old "Ja/Nein" rows stay answered.
    const rows = [...log.querySelectorAll("li.offer")];
    const last = rows[rows.length - 1];
    const answer = [...log.querySelectorAll(".msg.contact, .msg.agent")].pop();
    for (const row of rows) {
      const later = (selector) => [...log.querySelectorAll(selector)].some(
        (m) => row.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
      const over = row !== last || (answer && row.compareDocumentPosition(answer) & Node.DOCUMENT_POSITION_FOLLOWING)
        || (row.classList.contains("form-offer") && later(".msg.system[data-id]"));
      if (over) close(row);
    }
  }

  function close(row) {
    row.classList.add("answered");
    for (const control of row.querySelectorAll("button, input")) control.disabled = true;
  }

  function system(text) {
    const li = document.createElement("li");
    li.className = "msg system";
    li.textContent = text;
    log.append(li);
    toEnd();
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
      const form = fieldForm(T.contactLabel, T.contactSend, (value) => (value.includes("@") ? { email: value } : { phone: value }),
        "contact", (status, body) => (status === 429 || status === 0 ? failure({ status, body }) : T.contactInvalid));
      form.classList.add("offer", "form-offer");
      log.append(form);
    }
    settle();
    if (atEnd || m.sender === "contact") toEnd();
    if (live && m.sender !== "contact" && hostOrigin) parent.postMessage({ type: "auskunft:message" }, hostOrigin);
  }

  function buttonRow(buttons, owner) {
    // Quick replies. A rating (/csat…) goes to the conversation that asked (`owner`), even once it is closed
    // and forgotten here: it is the one message a closed conversation accepts.
    const row = document.createElement("li");
    row.className = "buttons offer";
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => {
        button.classList.add("chosen");
        button.setAttribute("aria-pressed", "true");
        close(row);
        input.focus(); // the focused button is disabled now: keyboard users continue in the composer
        (b.payload.startsWith("/csat") ? rate : send)(b.title, b.payload, owner);
      });
      row.append(button);
      if (b.payload.startsWith("/csat")) row.classList.add("rating");
    }
    return row;
  }

  async function rate(title, payload, owner) {
    const body = { text: title, payload, client_id: `r-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` };
    const result = await json(`${api}/${owner}/messages`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).catch(() => ({ ok: false, status: 0, body: {} }));
    if (result.ok) result.body.messages.forEach(render); else system(failure(result));
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
      }).catch(() => ({ ok: false, status: 0, body: {} }));
      if (!result.ok) { error.textContent = errorText(result.status, result.body || {}); return; }
      if (li.classList.contains("offer")) close(li); else li.remove(); // an answered offer stays, disabled
      result.body.messages.forEach(render);
    });
    li.append(form);
    return li;
  }

  function showTyping(who) {
    typing.textContent = who.includes("agent") ? T.typingAgent : who.includes("bot") ? T.typingBot : "";
  }

  async function json(url, options) {
    // A network failure rejects (status 0 for the callers); a body that is no JSON (a proxy's error page) is {}.
    const response = await fetch(url, options);
    const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  function failure(result) {
    // One German line for a failed request: the server's own for throttling, a retry hint for the network.
    if (result.status === 429) return (result.body && result.body.error) || T.tooMany;
    return result.status === 0 ? T.offline : T.error;
  }

  async function begin() {
    // The widget's greeting is the conversation's one greeting: instant, there when Rasa is not, and Rasa is told
    // (the widget channel's metadata) so that a customer's "Hallo" gets a short reply, not a second introduction.
    system(params.get("greeting") || T.greeting);
    json("/api/widget/config").then((result) => legalLine(result.ok ? result.body : {})).catch(() => legalLine({}));
    token = localStorage.getItem(KEY);
    const result = token ? await json(`${api}/${token}`).catch(() => null) : null;
    if (result && result.ok && result.body.state !== "closed") {
      state = result.body.state;
      result.body.messages.forEach(render);
      toEnd();
      listen();
    } else {
      localStorage.removeItem(KEY); // unknown or closed; the first message starts a conversation, not every page view
      token = null;
    }
    live = true;
  }

  async function start() {
    const result = await json(api, { method: "POST" });
    if (!result.ok) throw Object.assign(new Error(`start: ${result.status}`), { status: result.status, body: result.body });
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
    typed(false);
    const body = { text, client_id: `c-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` };
    if (payload) body.payload = payload;
    let last = { status: 0, body: {} };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!token) await start();
        const result = await json(`${api}/${token}/messages`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        if (result.status === 409) { system(T.closed); stop(); continue; } // closed meanwhile: send in a new one
        if (result.ok) { result.body.messages.forEach(render); return; }
        last = result; // throttled (the customer waits) or refused: no resend
        break;
      } catch (error) {
        // throttled start: say so; else the network: resend with the same client_id, stored once
        last = { status: error.status || 0, body: error.body || {} };
        if (error.status === 429) break;
      }
    }
    system(failure(last));
  }

  // The customer's typing, for the agent's inbox: sent when typing starts (again every few seconds while it goes
  // on: the server forgets it after 8 s), "stopped" after a pause, on sending and on leaving the field. Only within
  // a conversation: a page view starts none.
  let typingSince = 0; // when "typing" was last sent; 0: not typing
  let typingPause = null;
  function typed(now) {
    clearTimeout(typingPause);
    if (!token) { typingSince = 0; return; }
    if (now) {
      typingPause = setTimeout(() => typed(false), 3000);
      if (Date.now() - typingSince < 4000) return;
      typingSince = Date.now();
    } else {
      if (!typingSince) return;
      typingSince = 0;
    }
    fetch(`${api}/${token}/typing`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ typing: now }),
    }).catch(() => {}); // only a hint: a lost one expires on the server by itself
  }
  input.addEventListener("input", () => typed(input.value.trim() !== ""));
  input.addEventListener("blur", () => typed(false));

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
