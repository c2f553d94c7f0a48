// Auskunft widget loader: <script src="https://HOST/widget/loader.js" async></script> plus an optional
// window.AuskunftConfig = {title, color, greeting, position: "right"|"left", language: "de"}.
// The chat itself lives in an iframe so the host page's CSS cannot break it; only the launcher is styled here.
(() => {
  "use strict";
  const script = document.currentScript;
  const base = new URL(script.src).origin;
  const config = Object.assign({ title: "Kundenservice", color: "#12355b", position: "right", language: "de" },
    window.AuskunftConfig || {});
  const side = config.position === "left" ? "left" : "right";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "auskunft-launcher";
  button.setAttribute("aria-label", "Chat öffnen");
  button.setAttribute("aria-expanded", "false");
  button.textContent = "💬";
  button.style.cssText = `position:fixed;bottom:20px;${side}:20px;width:56px;height:56px;border-radius:50%;border:0;` +
    `background:${config.color};color:#fff;font-size:26px;cursor:pointer;z-index:2147483646;box-shadow:0 2px 8px #0005`;
  const frame = document.createElement("iframe");
  const params = new URLSearchParams({ title: config.title, color: config.color, greeting: config.greeting || "",
    lang: config.language, origin: location.origin });
  frame.src = `${base}/widget/chat.html?${params}`;
  frame.title = config.title;
  frame.className = "auskunft-frame";
  const phone = window.matchMedia("(max-width: 600px)").matches;
  frame.style.cssText = `position:fixed;z-index:2147483647;border:0;display:none;background:#fff;box-shadow:0 4px 24px #0006;` +
    (phone ? "inset:0;width:100%;height:100%;" : `bottom:90px;${side}:20px;width:370px;height:560px;border-radius:12px;`);
  function toggle(open) {
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    if (open) frame.contentWindow.postMessage({ type: "auskunft:focus" }, base);
    else button.focus();
  }
  button.addEventListener("click", () => toggle(frame.style.display === "none"));
  window.addEventListener("message", (event) => {
    if (event.origin !== base || !event.data || event.data.type !== "auskunft:close") return;
    toggle(false);
  });
  document.body.append(frame, button);
})();
