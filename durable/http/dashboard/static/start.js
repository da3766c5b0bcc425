// Starting a new instance of any orchestrator the app registers, with a JSON input and an
// optional instance id; the API's check-status answer links to the new instance.
"use strict";
(function () {
  const Dash = window.Dash;

  Dash.views.start = async function (main) {
    if (Dash.readOnly) {
      main.innerHTML = "";
      Dash.showInfo("The dashboard is read-only: instances cannot be started from it.");
      return;
    }
    let names = [];
    try {
      names = (await Dash.api("GET", "orchestrators")).data.orchestrators;
    } catch (err) {
      Dash.showError(err, "The orchestrators could not be listed");
    }
    const options = names.map((n) => `<option>${Dash.esc(n)}</option>`).join("");
    main.innerHTML = `<form class="card" id="start-form">
      <h2>Start a new instance</h2>
      ${names.length ? "" : `<p class="muted">The app registers no orchestrators.</p>`}
      <label class="field">Orchestrator<select name="orchestrator" id="orchestrator">${options}</select></label>
      <label class="field">Instance id (empty: a new GUID)<input type="text" name="instanceId"></label>
      <label class="field">Input (JSON)<textarea name="input" id="start-input">null</textarea></label>
      <button type="submit" class="primary"${names.length ? "" : " disabled"}>Start…</button></form>
      <div id="start-answer"></div>`;
    const form = main.querySelector("#start-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const name = String(data.get("orchestrator"));
      const id = String(data.get("instanceId")).trim();
      let started = null;
      Dash.confirm({
        title: `Start ${name}`, confirm: "Start",
        fields: `<p>Input:</p><pre class="json">${Dash.esc(String(data.get("input")))}</pre>`,
        run: async () => {
          const input = Dash.parseJsonField(String(data.get("input")), "Input");
          const path = `orchestrators/${encodeURIComponent(name)}${id ? "/" + encodeURIComponent(id) : ""}`;
          const result = await Dash.api("POST", path, { body: JSON.stringify(input) });
          started = result.data && result.data.id;
          return result;
        },
        done: () => {
          const answer = document.getElementById("confirm-answer");
          if (started) answer.insertAdjacentHTML("beforeend",
            `<p>Started: ${Dash.instanceLink(started)}</p>`);
        },
      });
    });
  };
})();
