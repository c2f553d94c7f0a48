// The demo shop's widget settings, read by loader.js (a file, not an inline script: the CSP allows no inline code).
window.AuskunftConfig = { title: "Lindgrün Kundenservice", color: "#2f6b3a", position: "right" };
