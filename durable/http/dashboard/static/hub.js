// The entities page (list by name with state and last operation time, signal an entity) and
// the task hub page (queue depths, poison queues with their messages, instance counts).
"use strict";
(function () {
  const Dash = window.Dash;

  Dash.views.entities = async function (main, route) {
    const name = route.query.get("name") || "";
    const tokens = [null];
    let page = 0;
    const signal = Dash.readOnly ? "" : `<form class="filters card" id="signal-form">
        <strong>Signal an entity</strong>
        <label>Entity name<input type="text" name="entityName" required></label>
        <label>Key<input type="text" name="entityKey" required></label>
        <label>Operation<input type="text" name="operation" required></label>
        <label>Input (JSON)<input type="text" name="input" value=""></label>
        <button type="submit" class="primary action">Signal…</button></form>`;
    main.innerHTML = `<form class="filters card" id="entity-filter">
        <label>Entity name<input type="text" name="name" value="${Dash.esc(name)}"></label>
        <button type="submit" class="primary">Show</button></form>${signal}
      <div class="toolbar"><button type="button" id="prev-page">&larr; Previous</button>
        <span id="page-label" class="muted"></span><button type="button" id="next-page">Next &rarr;</button>
        <button type="button" id="refresh">Refresh</button></div>
      <div class="table-wrap"><table id="entities"><thead><tr><th>Name</th><th>Key</th>
        <th>Last operation (UTC)</th><th>State</th></tr></thead><tbody></tbody></table></div>`;
    main.querySelector("#entity-filter").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = new FormData(e.target).get("name").trim();
      location.hash = value ? `#/entities?name=${encodeURIComponent(value)}` : "#/entities";
    });
    const signalForm = main.querySelector("#signal-form");
    if (signalForm) {
      signalForm.addEventListener("submit", (e) => {
        e.preventDefault();
        const data = new FormData(signalForm);
        const entity = `${data.get("entityName")}/${data.get("entityKey")}`;
        Dash.confirm({
          title: `Signal ${data.get("operation")} to ${entity}`, confirm: "Signal",
          run: () => {
            const input = Dash.parseJsonField(String(data.get("input")), "Input");
            const path = `entities/${encodeURIComponent(data.get("entityName"))}/${encodeURIComponent(data.get("entityKey"))}`;
            return Dash.api("POST", path, { query: { op: data.get("operation") },
              body: input === null ? undefined : JSON.stringify(input) });
          },
        });
        Dash.afterDialog = () => load();
      });
    }
    async function load() {
      const headers = tokens[page] ? { "x-ms-continuation-token": tokens[page] } : {};
      const body = main.querySelector("#entities tbody");
      try {
        const path = name ? `entities/${encodeURIComponent(name)}` : "entities";
        const result = await Dash.api("GET", path, { query: { fetchState: "true", top: "100" }, headers });
        tokens[page + 1] = result.headers.get("x-ms-continuation-token") || null;
        const list = result.data || [];
        body.innerHTML = list.length ? list.map((e) => `<tr><td>${Dash.esc(e.entityId.name)}</td>` +
          `<td class="id">${Dash.esc(e.entityId.key)}</td><td class="time">${Dash.time(e.lastOperationTime)}</td>` +
          `<td>${Dash.json(e.state)}</td></tr>`).join("")
          : `<tr><td colspan="4" class="muted">No entities${name ? " named " + Dash.esc(name) : ""}.</td></tr>`;
      } catch (err) {
        tokens[page + 1] = null;
        body.innerHTML = "";
        Dash.showError(err, "The entities could not be listed");
      }
      main.querySelector("#page-label").textContent = `Page ${page + 1}`;
      main.querySelector("#prev-page").disabled = page === 0;
      main.querySelector("#next-page").disabled = !tokens[page + 1];
    }
    main.querySelector("#prev-page").addEventListener("click", () => { page -= 1; load(); });
    main.querySelector("#next-page").addEventListener("click", () => { page += 1; load(); });
    main.querySelector("#refresh").addEventListener("click", load);
    await load();
  };

  function queueRows(hub) {
    const rows = hub.controlQueues.map((q) => `<tr><td class="id">${Dash.esc(q.name)}</td>` +
      `<td>control</td><td class="depth">${q.depth}</td></tr>`);
    rows.push(`<tr><td class="id">${Dash.esc(hub.workItemQueue.name)}</td><td>work items</td>` +
      `<td class="depth">${hub.workItemQueue.depth}</td></tr>`);
    return rows.join("");
  }

  Dash.views.taskhub = async function (main) {
    const [hubResult, countResult] = await Promise.allSettled([
      Dash.api("GET", "taskhub"), Dash.api("GET", "taskhub/counts")]);
    if (hubResult.status === "rejected") {
      main.innerHTML = "";
      Dash.showError(hubResult.reason, "The task hub could not be read");
      return;
    }
    const hub = hubResult.value.data;
    const counts = countResult.status === "fulfilled" ? countResult.value.data : null;
    const poison = hub.poisonQueues.length ? hub.poisonQueues.map((q) =>
      `<tr><td class="id">${Dash.esc(q.name)}</td><td class="depth">${q.depth}</td>` +
      `<td><button type="button" data-poison="${Dash.esc(q.name)}">View messages</button></td></tr>`).join("")
      : `<tr><td colspan="3" class="muted">No poison queues: no message has failed too often.</td></tr>`;
    main.innerHTML = `<div class="grid">
      <div class="card"><h2>Queues of ${Dash.esc(hub.taskHub)} (${hub.partitionCount} partitions)</h2>
        <table id="queues"><thead><tr><th>Queue</th><th>Kind</th><th>Messages</th></tr></thead>
        <tbody>${queueRows(hub)}</tbody></table></div>
      <div class="card"><h2>Instances by status</h2>${counts ? `<table id="status-counts"><tbody>${
        Dash.STATUSES.map((s) => `<tr><td>${Dash.statusBadge(s)}</td><td><a href="#/instances?status=${s}">${counts[s]}</a></td></tr>`).join("")}
        <tr><td><b>Total</b></td><td><b>${counts.Total}</b></td></tr></tbody></table>`
        : `<p class="muted">Counts unavailable.</p>`}</div></div>
      <div class="card"><h2>Poison queues</h2><table id="poison-queues"><thead><tr><th>Queue</th>
        <th>Messages</th><th></th></tr></thead><tbody>${poison}</tbody></table>
        <div id="poison-messages"></div></div>`;
    for (const button of main.querySelectorAll("button[data-poison]")) {
      button.addEventListener("click", () => showPoison(main, button.dataset.poison));
    }
  };

  async function showPoison(main, queue) {
    const box = main.querySelector("#poison-messages");
    let list;
    try {
      list = (await Dash.api("GET", `taskhub/poison/${encodeURIComponent(queue)}`)).data;
    } catch (err) {
      Dash.showError(err, `Poison queue ${queue}`);
      return;
    }
    box.innerHTML = `<h2>${Dash.esc(queue)}: first ${list.length} messages</h2>
      <div class="table-wrap"><table id="poison-list"><thead><tr><th>Message id</th><th>Inserted (UTC)</th>
      <th>Dequeued</th><th>Content</th>${Dash.readOnly ? "" : "<th></th>"}</tr></thead><tbody>${
      list.map((m) => `<tr><td class="id">${Dash.esc(m.id)}</td><td class="time">${Dash.time(m.insertedOn)}</td>` +
        `<td>${m.dequeueCount}</td><td>${Dash.json(m.content)}</td>` +
        (Dash.readOnly ? "" : `<td><button type="button" class="danger action" data-delete="${Dash.esc(m.id)}">Delete</button></td>`) +
        "</tr>").join("") || `<tr><td colspan="5" class="muted">Empty.</td></tr>`}</tbody></table></div>`;
    for (const button of box.querySelectorAll("button[data-delete]")) {
      button.addEventListener("click", () => {
        Dash.confirm({ title: `Delete message ${button.dataset.delete} from ${queue}`, confirm: "Delete",
          run: () => Dash.api("DELETE", `taskhub/poison/${encodeURIComponent(queue)}/${encodeURIComponent(button.dataset.delete)}`) });
        Dash.afterDialog = () => showPoison(main, queue);
      });
    }
  }
})();
