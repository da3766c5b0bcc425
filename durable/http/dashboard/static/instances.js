// The instances page: counts by status, filters (statuses, name prefix, id prefix, created
// range), a sortable table of one page, paging with the API's continuation tokens and an
// auto-refresh that can be paused. Filters live in the URL (#/instances?status=...), so a
// filtered list can be bookmarked and shared.
"use strict";
(function () {
  const Dash = window.Dash;
  const REFRESH_MS = 5000;
  const COLUMNS = [
    ["runtimeStatus", "Status", ""], ["name", "Name", ""], ["instanceId", "Instance id", ""],
    ["createdTime", "Created (UTC)", ""], ["lastUpdatedTime", "Last updated (UTC)", "optional"],
    ["duration", "Duration", ""],
  ];
  let paused = false; // survives re-renders, so a paused list stays paused

  function filtersOf(query) {
    return {
      status: (query.get("status") || "").split(",").filter(Boolean),
      name: query.get("name") || "", id: query.get("id") || "",
      from: query.get("from") || "", to: query.get("to") || "",
      top: query.get("top") || "50",
      sort: query.get("sort") || "createdTime", dir: query.get("dir") || "desc",
    };
  }
  function hashOf(f) {
    const q = new URLSearchParams();
    if (f.status.length) q.set("status", f.status.join(","));
    for (const key of ["name", "id", "from", "to"]) if (f[key]) q.set(key, f[key]);
    if (f.top !== "50") q.set("top", f.top);
    if (f.sort !== "createdTime" || f.dir !== "desc") { q.set("sort", f.sort); q.set("dir", f.dir); }
    const text = q.toString();
    return "#/instances" + (text ? "?" + text : "");
  }
  // A datetime-local value (no zone) is read as UTC, as every time on the page is shown.
  function utc(value) {
    if (!value) return "";
    const withSeconds = /T\d\d:\d\d$/.test(value) ? value + ":00" : value;
    return /Z$|[+-]\d\d:\d\d$/.test(withSeconds) ? withSeconds : withSeconds + "Z";
  }
  function durationOf(row) {
    const start = Date.parse(row.createdTime), end = Date.parse(row.lastUpdatedTime);
    return isNaN(start) || isNaN(end) ? null : end - start;
  }


  function formHtml(f) {
    const boxes = Dash.STATUSES.map((s) =>
      `<label><input type="checkbox" name="status" value="${s}"` +
      `${f.status.includes(s) ? " checked" : ""}>${s}</label>`).join("");
    const sizes = ["25", "50", "100", "500"].map((n) =>
      `<option${n === f.top ? " selected" : ""}>${n}</option>`).join("");
    return `<form class="filters card" id="filters">
      <fieldset><legend class="muted">Status</legend>${boxes}</fieldset>
      <label>Name starts with<input type="text" name="name" value="${Dash.esc(f.name)}"></label>
      <label>Instance id starts with<input type="text" name="id" value="${Dash.esc(f.id)}"></label>
      <label>Created from (UTC)<input type="datetime-local" step="1" name="from" value="${Dash.esc(f.from)}"></label>
      <label>Created to (UTC)<input type="datetime-local" step="1" name="to" value="${Dash.esc(f.to)}"></label>
      <label>Per page<select name="top">${sizes}</select></label>
      <button type="submit" class="primary" id="apply-filters">Apply</button>
      <button type="button" id="clear-filters">Clear</button>
    </form>`;
  }

  Dash.views.instances = async function (main, route) {
    const f = filtersOf(route.query);
    const tokens = [null]; // tokens[i] is the continuation token of page i
    let page = 0;
    let rows = [];
    main.innerHTML = `${formHtml(f)}
      <div class="toolbar"><div class="counts" id="counts"><span class="muted">Counting…</span></div></div>
      <div class="toolbar">
        <button type="button" id="prev-page">&larr; Previous</button>
        <span id="page-label" class="muted"></span>
        <button type="button" id="next-page">Next &rarr;</button>
        <label><input type="checkbox" id="auto-refresh"${paused ? "" : " checked"}> Auto-refresh every 5 s</label>
        <button type="button" id="refresh">Refresh now</button>
        <span id="loaded-at" class="muted"></span>
      </div>
      <div class="table-wrap"><table id="instances"><thead><tr>${COLUMNS.map(([key, label, cls]) =>
        `<th class="sortable ${cls}" data-key="${key}">${label}</th>`).join("")}</tr></thead>
      <tbody><tr><td colspan="6" class="muted">Loading…</td></tr></tbody></table></div>`;
    const form = main.querySelector("#filters");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const next = Object.assign({}, f, {
        status: data.getAll("status"), name: data.get("name").trim(), id: data.get("id").trim(),
        from: data.get("from"), to: data.get("to"), top: data.get("top"),
      });
      const target = hashOf(next);
      if (location.hash === target) Dash.show(); else location.hash = target;
    });
    main.querySelector("#clear-filters").addEventListener("click", () => {
      location.hash = "#/instances";
    });
    for (const th of main.querySelectorAll("th.sortable")) {
      th.addEventListener("click", () => {
        const key = th.dataset.key;
        f.dir = f.sort === key && f.dir === "asc" ? "desc" : "asc";
        f.sort = key;
        history.replaceState(null, "", hashOf(f));
        renderRows();
      });
    }

    function renderRows() {
      const sorted = rows.slice().sort((a, b) => {
        const va = f.sort === "duration" ? durationOf(a) : a[f.sort];
        const vb = f.sort === "duration" ? durationOf(b) : b[f.sort];
        const cmp = va === vb ? 0 : va === null || va === undefined ? -1 :
          vb === null || vb === undefined ? 1 : va < vb ? -1 : 1;
        return f.dir === "asc" ? cmp : -cmp;
      });
      for (const th of main.querySelectorAll("th.sortable")) {
        th.classList.toggle("sorted-asc", th.dataset.key === f.sort && f.dir === "asc");
        th.classList.toggle("sorted-desc", th.dataset.key === f.sort && f.dir === "desc");
      }
      const body = main.querySelector("#instances tbody");
      if (!sorted.length) {
        body.innerHTML = `<tr><td colspan="6" class="muted">No instances match.</td></tr>`;
        return;
      }
      body.innerHTML = sorted.map((r) => `<tr data-instance-id="${Dash.esc(r.instanceId)}">
        <td>${Dash.statusBadge(r.runtimeStatus)}</td><td>${Dash.esc(r.name)}</td>
        <td class="id">${Dash.instanceLink(r.instanceId)}</td>
        <td class="time">${Dash.time(r.createdTime)}</td>
        <td class="time optional">${Dash.time(r.lastUpdatedTime)}</td>
        <td class="time">${Dash.coarseDuration(durationOf(r))}</td></tr>`).join("");
    }

    async function load() {
      if (f.from && f.to && Date.parse(utc(f.from)) > Date.parse(utc(f.to))) {
        rows = [];
        renderRows();
        Dash.showError(new Error("'Created from' is later than 'Created to': nothing can match."));
        return;
      }
      const query = {
        runtimeStatus: f.status.join(","), namePrefix: f.name, instanceIdPrefix: f.id,
        createdTimeFrom: utc(f.from), createdTimeTo: utc(f.to), top: f.top, showInput: "false",
      };
      const headers = tokens[page] ? { "x-ms-continuation-token": tokens[page] } : {};
      try {
        const result = await Dash.api("GET", "instances", { query, headers });
        rows = result.data || [];
        tokens[page + 1] = result.headers.get("x-ms-continuation-token") || null;
        if (Dash.isCurrent(main)) Dash.clearMessage();
      } catch (err) {
        rows = [];
        tokens[page + 1] = null;
        if (Dash.isCurrent(main)) Dash.showError(err, "The instances could not be listed");
      }
      renderRows();
      main.querySelector("#page-label").textContent = `Page ${page + 1}`;
      main.querySelector("#prev-page").disabled = page === 0;
      main.querySelector("#next-page").disabled = !tokens[page + 1];
      main.querySelector("#loaded-at").textContent = `updated ${Dash.time(new Date().toISOString())}`;
    }

    async function loadCounts() {
      const box = main.querySelector("#counts");
      try {
        const counts = (await Dash.api("GET", "taskhub/counts")).data;
        box.innerHTML = `<span class="muted">All instances: <b id="count-total">${counts.Total}</b></span>` +
          Dash.STATUSES.filter((s) => counts[s]).map((s) =>
            `<button type="button" data-status="${s}" title="Show only ${s}">` +
            `${Dash.statusBadge(s)} <b class="count">${counts[s]}</b></button>`).join("");
        for (const b of box.querySelectorAll("button[data-status]")) {
          b.addEventListener("click", () => {
            location.hash = hashOf(Object.assign({}, f, { status: [b.dataset.status] }));
          });
        }
      } catch (err) {
        box.innerHTML = `<span class="muted">Counts unavailable (HTTP ${Dash.esc(err.status)})</span>`;
      }
    }

    main.querySelector("#prev-page").addEventListener("click", () => { page -= 1; load(); });
    main.querySelector("#next-page").addEventListener("click", () => { page += 1; load(); });
    main.querySelector("#refresh").addEventListener("click", () => { load(); loadCounts(); });
    const auto = main.querySelector("#auto-refresh");
    function schedule() {
      if (paused) Dash.stopRefresh();
      else Dash.every(REFRESH_MS, () => { if (!document.hidden) { load(); loadCounts(); } }, main);
    }
    auto.addEventListener("change", () => { paused = !auto.checked; schedule(); });
    schedule();
    loadCounts();
    await load();
  };
})();
