// Textbausteine (agent/_snippets.html): a click inserts the snippet (placeholders filled by the server) into the
// composer at the cursor; the agent reads it and sends it as any reply.
(() => {
  "use strict";
  const section = document.getElementById("snippets");
  if (!section) return;
  const composer = document.getElementById(section.dataset.composer);
  section.querySelectorAll("button.snippet").forEach((button) => {
    button.addEventListener("click", () => {
      if (!composer) return;
      const text = button.dataset.text;
      const start = composer.selectionStart ?? composer.value.length;
      const end = composer.selectionEnd ?? composer.value.length;
      composer.value = composer.value.slice(0, start) + text + composer.value.slice(end);
      composer.focus();
      composer.selectionStart = composer.selectionEnd = start + text.length;
      composer.dispatchEvent(new Event("input", { bubbles: true })); // the typing notice, as when typed
    });
  });
})();
