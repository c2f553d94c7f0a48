// Hand the conversation to a colleague (agent/_transfer.html); afterwards the page is the colleague's.
(() => {
  "use strict";
  const form = document.getElementById("transfer");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const result = document.getElementById("transfer-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const select = document.getElementById("transfer-to");
    result.textContent = "";
    const response = await fetch(`/agent/conversations/${form.dataset.conversation}/transfer`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ agent_id: Number(select.value) }), credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) { result.textContent = data.error || `Fehler ${response.status}`; return; }
    result.textContent = `An ${data.assignee_name} übergeben.`;
    form.querySelectorAll("select, button").forEach((element) => { element.disabled = true; });
  });
})();
