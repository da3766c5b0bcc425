// One instance: its facts, input / output / custom status as readable JSON, the failure with
// its stack, parent and children as links, the timeline and the history table, and the
// actions (raise event, terminate, suspend, resume, rewind, restart, purge), each confirmed
// in a dialog that shows the API's answer. Read-only mode leaves the actions out.
"use strict";
(function () {
  const Dash = window.Dash;
  const RUNNING = new Set(["Running", "Pending", "Suspended", "ContinuedAsNew"]);
  const reasonField = `<label class="field">Reason<input type="text" name="reason" value="from the dashboard"></label>`;
  // name -> [button label, applies to status?, dialog fields, call]
  const ACTIONS = {
    raise: ["Raise event", (s) => RUNNING.has(s),
      `<label class="field">Event name<input type="text" name="eventName" required></label>
       <label class="field">Event data (JSON)<textarea name="eventData">null</textarea></label>`,
      (id, form) => {
        const name = form.eventName.value.trim();
        if (!name) throw new Error("The event needs a name.");
        const data = Dash.parseJsonField(form.eventData.value, "Event data");
        return Dash.api("POST", `instances/${encodeURIComponent(id)}/raiseEvent/${encodeURIComponent(name)}`,
          { body: JSON.stringify(data) });
      }],
    terminate: ["Terminate", (s) => RUNNING.has(s), reasonField,
      (id, form) => Dash.api("POST", `instances/${encodeURIComponent(id)}/terminate`,
        { query: { reason: form.reason.value } })],
    suspend: ["Suspend", (s) => s === "Running" || s === "Pending", reasonField,
      (id, form) => Dash.api("POST", `instances/${encodeURIComponent(id)}/suspend`,
        { query: { reason: form.reason.value } })],
    resume: ["Resume", (s) => s === "Suspended", reasonField,
      (id, form) => Dash.api("POST", `instances/${encodeURIComponent(id)}/resume`,
        { query: { reason: form.reason.value } })],
    rewind: ["Rewind", (s) => s === "Failed", reasonField,
      (id, form) => Dash.api("POST", `instances/${encodeURIComponent(id)}/rewind`,
        { query: { reason: form.reason.value } })],
    restart: ["Restart", () => true,
      `<label><input type="checkbox" name="newId" checked> under a new instance id</label>`,
      (id, form) => Dash.api("POST", `instances/${encodeURIComponent(id)}/restart`,
        { query: { restartWithNewInstanceId: form.newId.checked ? "true" : "false" } })],
    purge: ["Purge", (s) => !RUNNING.has(s),
      `<p>The instance and its history are deleted from the task hub.</p>`,
      (id) => Dash.api("DELETE", `instances/${encodeURIComponent(id)}`)],
  };

  function failureOf(status, history) {
    const done = history.find((e) => e.EventType === "ExecutionCompleted" && e.FailureDetails);
    if (done) return done.FailureDetails;
    return status.runtimeStatus === "Failed" ? { ErrorMessage: status.output } : null;
  }

  function relations(history) {
    const started = history.find((e) => e.EventType === "ExecutionStarted");
    const parent = started && started.ParentInstance && started.ParentInstance.OrchestrationInstance;
    const children = [];
    const seen = new Set();
    for (const e of history) {
      if (e.EventType.startsWith("SubOrchestrationInstance") && e.InstanceId && !seen.has(e.InstanceId)) {
        seen.add(e.InstanceId);
        children.push(`<li>${Dash.instanceLink(e.InstanceId)} <span class="muted">` +
          `${Dash.esc(e.FunctionName || e.Name || "")} · ${Dash.esc(e.EventType.replace("SubOrchestrationInstance", ""))}</span></li>`);
      }
    }
    const parentHtml = parent
      ? `${Dash.instanceLink(parent.InstanceId)} <span class="muted">${Dash.esc(started.ParentInstance.Name)}</span>`
      : `<span class="muted">none (started by a client)</span>`;
    return `<dl class="facts"><dt>Parent</dt><dd id="parent">${parentHtml}</dd>` +
      `<dt>Children</dt><dd><ul id="children">${children.join("") || "<li class=\"muted\">none</li>"}</ul></dd></dl>`;
  }

  function generation(status, history) {
    const continued = history.find((e) => e.EventType === "ContinueAsNew");
    const started = history.find((e) => e.EventType === "ExecutionStarted");
    const since = started ? Dash.time(started.Timestamp) : "";
    return `<p>This generation started ${Dash.esc(since)} with the input shown above.` +
      `${continued ? " It continued as new; the next generation is starting." : ""}</p>` +
      `<p class="muted">An eternal orchestration keeps the history of its current generation ` +
      `only: continue-as-new starts afresh, as in Durable Functions.</p>`;
  }

  const HISTORY_PAGE = 100;

  function historyRows(history, from, to) {
    return history.slice(from, to).map((e, i) => {
      const detail = {};
      for (const key of ["Input", "Result", "Reason", "Details", "FailureDetails", "FireAt",
        "InstanceId", "OrchestrationStatus", "Data"]) if (e[key] !== undefined) detail[key] = e[key];
      return `<tr><td>${from + i + 1}</td><td>${Dash.esc(e.EventType)}</td>` +
        `<td>${Dash.esc(e.FunctionName || e.Name || "")}</td>` +
        `<td class="time">${Dash.time(e.ScheduledTime, true)}</td><td class="time">${Dash.time(e.Timestamp, true)}</td>` +
        `<td>${Object.keys(detail).length ? Dash.json(detail) : ""}</td></tr>`;
    }).join("");
  }

  // The first events at once; the rest a page at a time, so a long history does not hold
  // up the page (the timeline above already shows all of it).
  function historyTable(history) {
    const more = history.length > HISTORY_PAGE
      ? `<div class="toolbar"><button type="button" id="history-more">Show ${HISTORY_PAGE} more</button>` +
        `<button type="button" id="history-all">Show all ${history.length}</button></div>` : "";
    return `<div class="table-wrap"><table id="history"><thead><tr><th>#</th><th>Event</th>` +
      `<th>Name</th><th>Scheduled (UTC)</th><th>Time (UTC)</th><th>Details</th></tr></thead>` +
      `<tbody>${historyRows(history, 0, HISTORY_PAGE)}</tbody></table></div>${more}`;
  }

  function wireHistory(main, history) {
    let shown = Math.min(HISTORY_PAGE, history.length);
    const body = main.querySelector("#history tbody");
    const grow = (to) => {
      body.insertAdjacentHTML("beforeend", historyRows(history, shown, to));
      shown = Math.min(to, history.length);
      if (shown >= history.length) for (const id of ["#history-more", "#history-all"]) {
        const b = main.querySelector(id);
        if (b) b.hidden = true;
      }
    };
    const moreButton = main.querySelector("#history-more");
    if (moreButton) moreButton.addEventListener("click", () => grow(shown + HISTORY_PAGE));
    const allButton = main.querySelector("#history-all");
    if (allButton) allButton.addEventListener("click", () => grow(history.length));
  }

  function actionsHtml(status) {
    if (Dash.readOnly) return "";
    return `<div class="toolbar" id="actions">${Object.entries(ACTIONS).map(([key, a]) =>
      `<button type="button" class="action" data-action="${key}"${a[1](status) ? "" : " disabled"}>` +
      `${a[0]}</button>`).join("")}</div>`;
  }

  Dash.views.instance = async function (main, route) {
    const id = route.args.join("/");
    main.innerHTML = `<p class="muted">Loading ${Dash.esc(id)}…</p>`;
    let result;
    try {
      result = await Dash.api("GET", `instances/${encodeURIComponent(id)}`,
        { query: { showHistory: "true", showHistoryOutput: "true", showInput: "true" } });
    } catch (err) {
      main.innerHTML = `<p><a href="#/instances">&larr; Instances</a></p>`;
      if (Dash.isCurrent(main)) Dash.showError(err, `Instance ${id}`);
      return;
    }
    const s = result.data;
    const history = s.historyEvents || [];
    const failure = failureOf(s, history);
    const took = Date.parse(s.lastUpdatedTime) - Date.parse(s.createdTime);
    main.innerHTML = `<p><a href="#/instances">&larr; Instances</a></p>
      <div class="card"><h2 id="instance-title">${Dash.esc(s.name)} ${Dash.statusBadge(s.runtimeStatus)}</h2>
      <dl class="facts"><dt>Instance id</dt><dd id="instance-id">${Dash.esc(s.instanceId)}</dd>
      <dt>Status</dt><dd id="instance-status">${Dash.esc(s.runtimeStatus)}</dd>
      <dt>Created</dt><dd>${Dash.time(s.createdTime)} UTC</dd>
      <dt>Last updated</dt><dd>${Dash.time(s.lastUpdatedTime)} UTC</dd>
      <dt>Duration</dt><dd>${Dash.coarseDuration(took)}</dd></dl>
      ${actionsHtml(s.runtimeStatus)}</div>
      ${failure ? `<div class="card" id="failure"><h2>Failure</h2><p><b>${Dash.esc(failure.ErrorType || "")}</b>
        ${Dash.esc(failure.ErrorMessage || "")}</p>${failure.StackTrace ? `<pre class="json">${Dash.esc(failure.StackTrace)}</pre>` : ""}</div>` : ""}
      <div class="grid">
        <div class="card"><h2>Input</h2><div id="input">${Dash.json(s.input)}</div></div>
        <div class="card"><h2>Output</h2><div id="output">${Dash.json(s.output)}</div></div>
        <div class="card"><h2>Custom status</h2><div id="custom-status">${Dash.json(s.customStatus)}</div></div>
        <div class="card"><h2>Parent and children</h2>${relations(history)}</div>
        <div class="card"><h2>Generation</h2>${generation(s, history)}</div>
      </div>
      <h2>Timeline</h2>${history.length ? Dash.timeline(history, s) : `<p class="muted">No history yet.</p>`}
      <h2>History (${history.length} events)</h2>${historyTable(history)}`;
    wireHistory(main, history);
    for (const button of main.querySelectorAll("#actions button[data-action]")) {
      button.addEventListener("click", () => {
        const [label, , fields, call] = ACTIONS[button.dataset.action];
        Dash.confirm({
          title: `${label}: ${s.instanceId}`, fields, confirm: label,
          run: (form) => call(s.instanceId, form),
        });
        Dash.afterDialog = () => {
          if (button.dataset.action === "purge" && document.querySelector("#confirm-answer").dataset.outcome === "ok") {
            location.hash = "#/instances";
          } else {
            Dash.show();
          }
        };
      });
    }
    if (RUNNING.has(s.runtimeStatus)) {
      Dash.every(5000, async () => {
        if (document.hidden || document.getElementById("confirm").open) return;
        try {
          const again = await Dash.api("GET", `instances/${encodeURIComponent(id)}`, { query: { showInput: "false" } });
          // Times are to the second: two steps within one second differ only in what they set.
          const changed = again.data.runtimeStatus !== s.runtimeStatus
            || again.data.lastUpdatedTime !== s.lastUpdatedTime
            || JSON.stringify(again.data.customStatus) !== JSON.stringify(s.customStatus)
            || JSON.stringify(again.data.output) !== JSON.stringify(s.output);
          if (changed) Dash.show();
        } catch (_) { /* shown on the next full load */ }
      }, main);
    }
  };
})();
