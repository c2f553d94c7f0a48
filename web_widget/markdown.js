// Safe Markdown for answers: paragraphs, "- " lists, **bold**, [text](https://…) links. Builds DOM nodes with
// textContent only — raw HTML in an answer or in customer text is shown as text, never interpreted.
window.AuskunftMarkdown = (() => {
  "use strict";
  const INLINE = /\*\*([^*]+)\*\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+|mailto:[^\s)]+)\)/g;

  function inline(parent, text) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      parent.append(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        const strong = document.createElement("strong");
        strong.textContent = match[1];
        parent.append(strong);
      } else {
        const link = document.createElement("a");
        link.textContent = match[2];
        link.href = match[3];
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        parent.append(link);
      }
      last = match.index + match[0].length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  function render(text) {
    const fragment = document.createDocumentFragment();
    let list = null;
    for (const line of text.split("\n")) {
      const item = line.match(/^\s*[-*]\s+(.*)$/);
      if (item) {
        if (!list) { list = document.createElement("ul"); fragment.append(list); }
        const li = document.createElement("li");
        inline(li, item[1]);
        list.append(li);
      } else if (line.trim()) {
        list = null;
        const p = document.createElement("p");
        inline(p, line);
        fragment.append(p);
      } else {
        list = null;
      }
    }
    return fragment;
  }
  return { render };
})();
