// Answers (the bot's and the agents' Markdown) as DOM nodes, with the server's semantics: markdown-it with the
// CommonMark preset, raw HTML off and a line break kept (as bot/channels/text.py's MARKDOWN), then DOMPurify to
// the allow-list of bot/markdown_html.py; links open in a new tab with rel="noopener noreferrer".
// Both libraries are their own dist files from web_widget/node_modules (`make setup`), served by the gateway.
window.AuskunftMarkdown = (() => {
  "use strict";
  const TAGS = ["p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "h1", "h2", "h3", "h4"];
  const SAFE_URL = /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i; // http(s), mailto or relative
  const parser = window.markdownit ? window.markdownit("commonmark", { html: false, breaks: true }) : null;
  const purify = window.DOMPurify && window.DOMPurify.isSupported ? window.DOMPurify : null;
  if (purify) {
    purify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") { node.setAttribute("target", "_blank"); node.setAttribute("rel", "noopener noreferrer"); }
    });
  }

  function render(text) {
    if (!parser || !purify) { // the libraries did not load: the answer as plain text, never as HTML
      const p = document.createElement("p");
      p.textContent = text;
      const fragment = document.createDocumentFragment();
      fragment.append(p);
      return fragment;
    }
    return purify.sanitize(parser.render(text || ""), {
      ALLOWED_TAGS: TAGS, ALLOWED_ATTR: ["href", "start"], ALLOWED_URI_REGEXP: SAFE_URL, RETURN_DOM_FRAGMENT: true,
    });
  }
  return { render };
})();
