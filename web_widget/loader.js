// Auskunft widget loader: <script src="https://HOST/widget/loader.js" async></script>, configured by the tag's
// data-title, data-color, data-greeting, data-position ("right"|"left"), data-language ("de"), data-privacy-url and
// data-imprint-url (the privacy line's links; default: the gateway's settings) attributes (no inline script needed,
// so a shop's CSP may forbid them) or by an optional window.AuskunftConfig = {title, color, …}.
// The chat itself lives in an iframe so the host page's CSS cannot break it; only the launcher is styled here,
// with a badge counting the answers that arrived while the chat was closed.
(() => {
  "use strict";
  const script = document.currentScript;
  const base = new URL(script.src).origin;
  const attributes = {};
  for (const key of ["title", "color", "greeting", "position", "language", "privacyUrl", "imprintUrl"]) {
    if (script.dataset[key]) attributes[key] = script.dataset[key];
  }
  const config = Object.assign({ title: "Kundenservice", color: "#12355b", position: "right", language: "de" },
    attributes, window.AuskunftConfig || {});
  const side = config.position === "left" ? "left" : "right";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "auskunft-launcher";
  button.setAttribute("aria-label", "Chat öffnen");
  button.setAttribute("aria-expanded", "false");
  // An inline SVG speech bubble: an emoji shows as an empty box where no emoji font is installed.
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  svg.setAttribute("aria-hidden", "true");
  const bubble = document.createElementNS("http://www.w3.org/2000/svg", "path");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  bubble.setAttribute("fill", "currentColor");
  svg.append(bubble);
  button.append(svg);
  const badge = document.createElement("span");
  badge.className = "auskunft-unread";
  badge.setAttribute("aria-hidden", "true"); // the button's label says it in words
  badge.style.cssText = "position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;" +
    "background:#b3261e;color:#fff;font:bold 13px/22px system-ui,sans-serif;text-align:center;display:none";
  button.append(badge);
  let unread = 0;
  function showUnread() {
    badge.textContent = String(unread);
    badge.style.display = unread ? "block" : "none";
    button.setAttribute("aria-label", unread
      ? `Chat öffnen – ${unread === 1 ? "1 neue Nachricht" : `${unread} neue Nachrichten`}` : "Chat öffnen");
  }
  button.style.cssText = `position:fixed;bottom:20px;${side}:20px;width:56px;height:56px;border-radius:50%;border:0;` +
    `background:${config.color};color:#fff;cursor:pointer;display:grid;place-items:center;padding:0;z-index:2147483646;box-shadow:0 2px 8px #0005`;
  const frame = document.createElement("iframe");
  const params = new URLSearchParams({ title: config.title, color: config.color, greeting: config.greeting || "",
    lang: config.language, origin: location.origin, privacy: config.privacyUrl || "", imprint: config.imprintUrl || "" });
  frame.src = `${base}/widget/chat.html?${params}`;
  frame.title = config.title;
  frame.className = "auskunft-frame";
  const phone = window.matchMedia("(max-width: 600px)").matches;
  frame.style.cssText = `position:fixed;z-index:2147483647;border:0;display:none;background:#fff;box-shadow:0 4px 24px #0006;` +
    (phone ? "inset:0;width:100%;height:100%;" : `bottom:90px;${side}:20px;width:370px;height:560px;border-radius:12px;`);
  function toggle(open) {
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    if (open) { unread = 0; showUnread(); frame.contentWindow.postMessage({ type: "auskunft:focus" }, base); }
    else button.focus();
  }
  button.addEventListener("click", () => toggle(frame.style.display === "none"));
  window.addEventListener("message", (event) => {
    if (event.origin !== base || !event.data) return;
    if (event.data.type === "auskunft:close") toggle(false);
    if (event.data.type === "auskunft:message" && frame.style.display === "none") { unread++; showUnread(); }
  });
  document.body.append(frame, button);
})();
