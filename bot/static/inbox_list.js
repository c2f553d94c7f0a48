// The inbox's live list (GET /agent/events, bot/web/inbox_list.py): tabs with counts, entries rendered as
// bot/templates/agent/_list.html renders them, a browser notification (and a sound, if chosen) when a customer
// starts waiting, J/K to open the next/previous conversation, "/" to the search, "?" for the shortcuts' help.
(() => {
  "use strict";
  const aside = document.getElementById("inbox-list");
  if (!aside) return;
  const current = Number(aside.dataset.current) || null;
  const STORE = { tab: "auskunft.inbox.tab", notify: "auskunft.inbox.notify", sound: "auskunft.inbox.sound" };
  const stored = (key) => { try { return localStorage.getItem(key); } catch (e) { return null; } };
  const store = (key, value) => { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } };

  // --- tabs ---------------------------------------------------------------------------------------------------
  const tabs = [...aside.querySelectorAll('[role="tab"]')];
  function show(name) {
    tabs.forEach((tab) => {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(`list-${tab.dataset.tab}`).hidden = !on;
    });
    store(STORE.tab, name);
  }
  tabs.forEach((tab) => tab.addEventListener("click", () => show(tab.dataset.tab)));
  if (tabs.some((t) => t.dataset.tab === stored(STORE.tab))) show(stored(STORE.tab));
  const visibleList = () => aside.querySelector(".conversations:not([hidden])");

  // --- entries (as _list.html) ----------------------------------------------------------------------------------
  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }
  function entry(e) {
    const li = document.createElement("li");
    li.className = `entry ${e.state}${e.id === current ? " current" : ""}`;
    li.dataset.id = e.id;
    const link = document.createElement("a");
    link.href = e.url;
    if (e.id === current) link.setAttribute("aria-current", "page");
    const line = span("line", "");
    const title = document.createElement("strong");
    title.textContent = `Gespräch ${e.id}`;
    const time = document.createElement("time");
    time.dateTime = e.since;
    time.textContent = e.since_label;
    line.append(title, " ", span("badge channel", e.channel_label), " ", time);
    link.append(line);
    if (e.reason_label) link.append(span("reason", e.reason_label));
    if (e.summary) link.append(span("summary", e.summary));
    if (e.assignee) link.append(span("who", `bei ${e.assignee}`));
    if (e.earlier) {
      const words = e.earlier === 1 ? "früheres Gespräch" : "frühere Gespräche";
      link.append(span("badge regular", `Stammkunde: ${e.earlier} ${words}`));
    }
    li.append(link);
    return li;
  }
  const shown = {}; // what each tab shows now, as JSON: an unchanged tab is left alone (focus, links in hand)
  const first = JSON.parse(aside.dataset.lists || "{}");
  Object.keys(first.counts || {}).forEach((key) => { shown[key] = JSON.stringify(first[key]); });
  function render(data) {
    Object.keys(data.counts).forEach((key) => {
      aside.querySelector(`[data-count="${key}"]`).textContent = data.counts[key];
      const json = JSON.stringify(data[key]);
      if (shown[key] === json) return;
      shown[key] = json;
      const list = document.getElementById(`list-${key}`);
      const items = data[key].map(entry);
      if (!items.length) {
        const none = document.createElement("li");
        none.className = "empty";
        none.textContent = list.dataset.empty;
        items.push(none);
      }
      list.replaceChildren(...items);
    });
  }

  // --- notification and sound -----------------------------------------------------------------------------------
  const notifyBox = document.getElementById("notify-on");
  const soundBox = document.getElementById("sound-on");
  const notifyState = document.getElementById("notify-state");
  notifyBox.checked = stored(STORE.notify) === "1";
  soundBox.checked = stored(STORE.sound) === "1";
  notifyBox.addEventListener("change", async () => {
    store(STORE.notify, notifyBox.checked ? "1" : "0");
    notifyState.textContent = "";
    if (notifyBox.checked && window.Notification && window.Notification.permission === "default") {
      await window.Notification.requestPermission();
    }
    if (notifyBox.checked && (!window.Notification || window.Notification.permission === "denied")) {
      notifyState.textContent = "Der Browser erlaubt keine Benachrichtigungen für diese Seite.";
    }
  });
  soundBox.addEventListener("change", () => store(STORE.sound, soundBox.checked ? "1" : "0"));

  function beep() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    const audio = new Context();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.15;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
    tone.onended = () => audio.close();
  }
  function announce(e) {
    if (soundBox.checked) beep();
    const N = window.Notification;
    if (!notifyBox.checked || !N || N.permission !== "granted") return;
    const note = new N(`Kunde wartet: Gespräch ${e.id}`, { body: `${e.channel_label} – ${e.reason_label}`, tag: `auskunft-${e.id}` });
    note.onclick = () => { window.focus(); location.href = e.url; };
  }

  // --- the stream ------------------------------------------------------------------------------------------------
  let waiting = new Set([...document.querySelectorAll("#list-waiting .entry")].map((li) => Number(li.dataset.id)));
  const source = new EventSource("/agent/events");
  source.addEventListener("lists", (event) => {
    const data = JSON.parse(event.data);
    render(data);
    data.waiting.filter((e) => !waiting.has(e.id)).forEach(announce);
    waiting = new Set(data.waiting.map((e) => e.id));
  });
  window.addEventListener("pagehide", () => source.close());

  // --- tablet: the list folds away --------------------------------------------------------------------------------
  const toggle = document.getElementById("list-toggle");
  if (toggle) toggle.addEventListener("click", () => {
    const open = document.body.classList.toggle("list-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // --- shortcuts: J/K, "/", "?" ----------------------------------------------------------------------------------
  const help = document.getElementById("shortcuts");
  document.getElementById("shortcuts-open").addEventListener("click", () => help.showModal());
  const typingIn = (target) => target.closest && target.closest("input, textarea, select, [contenteditable]");
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typingIn(event.target) || help.open) return;
    if (event.key === "j" || event.key === "k") {
      const links = [...visibleList().querySelectorAll(".entry a")];
      if (!links.length) return;
      const at = links.findIndex((a) => a.closest(".entry").classList.contains("current"));
      const next = at < 0 ? 0 : Math.min(links.length - 1, Math.max(0, at + (event.key === "j" ? 1 : -1)));
      if (next !== at) { event.preventDefault(); location.href = links[next].href; }
    } else if (event.key === "/") {
      const search = document.querySelector("#inbox-search input, #inbox-search, #faq-q");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "?") {
      event.preventDefault();
      help.showModal();
    }
  });
})();
