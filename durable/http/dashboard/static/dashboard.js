// The dashboard's core: configuration, calls to the management API (keeping `code`,
// `taskHub` and `connection` from the page's URL on every call), the visible message area,
// the confirmation dialog and the router between views (#/instances, #/instance/{id},
// #/entities, #/taskhub, #/start). Views register themselves in Dash.views.
"use strict";
(function () {
  const Dash = (window.Dash = { views: {} });
  const config = JSON.parse(document.getElementById("dashboard-config").textContent || "{}");
  Dash.readOnly = Boolean(config.readOnly);
  Dash.taskHub = config.taskHub || "";
  const pageQuery = new URLSearchParams(location.search);
  const KEPT = ["code", "taskHub", "connection"];
  // The API root is the page's path without its "/dashboard/..." tail.
  const apiRoot = location.pathname.replace(/\/dashboard(\/.*)?$/i, "");
  Dash.STATUSES = ["Running", "Pending", "Suspended", "Completed", "Failed", "Terminated",
    "Canceled", "ContinuedAsNew"];

  class ApiError extends Error {
    constructor(status, body) {
      super(`The management API answered ${status}`);
      this.status = status;
      this.body = body;
    }
  }
  Dash.ApiError = ApiError;

  Dash.apiUrl = function (path, query) {
    const q = new URLSearchParams();
    for (const name of KEPT) if (pageQuery.get(name)) q.set(name, pageQuery.get(name));
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") q.set(name, value);
    }
    const text = q.toString();
    return `${apiRoot}/${path}${text ? "?" + text : ""}`;
  };

  // One call; resolves {status, data, headers} for 2xx, rejects with ApiError otherwise.
  Dash.api = async function (method, path, options) {
    const opts = options || {};
    const headers = Object.assign({}, opts.headers || {});
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(Dash.apiUrl(path, opts.query), { method, headers, body });
    } catch (err) {
      throw new ApiError(0, { Message: `The management API could not be reached: ${err}` });
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (!response.ok) throw new ApiError(response.status, data);
    return { status: response.status, data, headers: response.headers };
  };

  Dash.esc = function (value) {
    return String(value === undefined || value === null ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  };
  Dash.json = function (value) {
    if (value === undefined) return "";
    return `<pre class="json">${Dash.esc(JSON.stringify(value, null, 2))}</pre>`;
  };
  Dash.statusBadge = function (status) {
    const s = Dash.esc(status || "Unknown");
    return `<span class="status ${s}">${s}</span>`;
  };
  // Times are shown in UTC, as the API gives them: "2026-01-31 12:00:05".
  // `precise` keeps the milliseconds (history events have them).
  Dash.time = function (iso, precise) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return Dash.esc(iso);
    const text = d.toISOString().replace("T", " ").replace("Z", "");
    return precise ? text : text.replace(/\.\d+$/, "");
  };
  Dash.duration = function (ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "";
    if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${m % 60} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  };
  // Between two status times, which have whole seconds (as Durable Functions gives them).
  Dash.coarseDuration = function (ms) {
    if (ms === 0) return "< 1 s";
    return ms > 0 && ms < 60000 && ms % 1000 === 0 ? `${ms / 1000} s` : Dash.duration(ms);
  };
  Dash.instanceLink = function (id) {
    return `<a href="#/instance/${encodeURIComponent(id)}">${Dash.esc(id)}</a>`;
  };

  // --- the visible message: every failure ends up here, never a blank page ---------------
  const messageBox = document.getElementById("message");
  Dash.showError = function (err, context) {
    let text = context ? `${context}: ` : "";
    if (err instanceof ApiError) {
      const body = err.body;
      const detail = body && typeof body === "object"
        ? (body.ExceptionMessage || body.Message || JSON.stringify(body)) : String(body || "");
      text += `${detail} (HTTP ${err.status})`;
    } else {
      text += String(err && err.message ? err.message : err);
    }
    messageBox.className = "message";
    messageBox.textContent = text;
    messageBox.hidden = false;
  };
  Dash.showInfo = function (text) {
    messageBox.className = "message info";
    messageBox.textContent = text;
    messageBox.hidden = false;
  };
  Dash.clearMessage = function () { messageBox.hidden = true; messageBox.textContent = ""; };

  // --- confirmation: a dialog with fields, a Confirm button and the API's answer ----------
  const dialog = document.getElementById("confirm");
  const okButton = document.getElementById("confirm-ok");
  const answer = document.getElementById("confirm-answer");
  let pending = null;
  // spec: {title, fields: html, confirm: label, run: async (form) => {status, data}, done}
  Dash.confirm = function (spec) {
    pending = spec;
    document.getElementById("confirm-title").textContent = spec.title;
    document.getElementById("confirm-fields").innerHTML = spec.fields || "";
    okButton.textContent = spec.confirm || "Confirm";
    okButton.disabled = false;
    okButton.hidden = false;
    answer.hidden = true;
    answer.innerHTML = "";
    answer.dataset.outcome = "";
    dialog.showModal();
  };
  Dash.showAnswer = function (element, status, data, failed) {
    const label = failed ? "The API refused" : "The API answered";
    element.innerHTML = `<div class="${failed ? "message" : "message info"}">` +
      `${label} HTTP ${Dash.esc(status)}</div>${data === null || data === "" ? "" : Dash.json(data)}`;
    element.hidden = false;
  };
  okButton.addEventListener("click", async () => {
    if (!pending) return;
    const spec = pending;
    okButton.disabled = true;
    try {
      const result = await spec.run(document.getElementById("confirm-form"));
      Dash.showAnswer(answer, result.status, result.data, false);
      answer.dataset.outcome = "ok";
      okButton.hidden = true;
      if (spec.done) spec.done(result);
    } catch (err) {
      if (err instanceof ApiError) Dash.showAnswer(answer, err.status, err.body, true);
      else Dash.showAnswer(answer, "(not sent)", String(err.message || err), true);
      answer.dataset.outcome = "failed";
      okButton.disabled = false;
    }
  });
  document.getElementById("confirm-cancel").addEventListener("click", () => {
    pending = null;
    dialog.close();
    if (Dash.afterDialog) Dash.afterDialog();
  });
  document.getElementById("confirm-cancel").textContent = "Close";
  Dash.parseJsonField = function (text, label) {
    if (!text.trim()) return null;
    try { return JSON.parse(text); } catch (err) {
      throw new Error(`${label} is not valid JSON: ${err.message}`);
    }
  };

  // --- auto-refresh, owned by the current view ---------------------------------------------
  // Each view renders into a container of its own: a view still waiting for an answer when
  // the user has moved on writes into a container no longer shown, and starts no timer.
  let timer = null;
  let current = null;
  let shownHash = null;
  Dash.isCurrent = function (container) { return container === current; };
  Dash.every = function (ms, fn, container) {
    if (!Dash.isCurrent(container)) return;
    Dash.stopRefresh();
    timer = setInterval(fn, ms);
  };
  Dash.stopRefresh = function () { if (timer) clearInterval(timer); timer = null; };

  // --- routing -------------------------------------------------------------------------------
  Dash.route = function () {
    const hash = location.hash.replace(/^#\/?/, "") || "instances";
    const [pathPart, queryPart] = hash.split("?");
    const parts = pathPart.split("/").map(decodeURIComponent);
    return { view: parts[0], args: parts.slice(1), query: new URLSearchParams(queryPart || "") };
  };
  async function show() {
    Dash.stopRefresh();
    if (dialog.open) dialog.close();
    Dash.afterDialog = null;
    Dash.clearMessage();
    const route = Dash.route();
    const view = Dash.views[route.view];
    for (const a of document.querySelectorAll("header nav a")) {
      a.classList.toggle("current", a.dataset.view === route.view ||
        (route.view === "instance" && a.dataset.view === "instances"));
    }
    const main = document.createElement("div");
    current = main;
    const holder = document.getElementById("view");
    // The same view again (a refresh, an action's answer) replaces the old one only once it
    // is ready, keeping the scroll position; another view shows at once.
    const again = shownHash === location.hash;
    shownHash = location.hash;
    if (!again) holder.replaceChildren(main);
    if (!view) {
      Dash.showError(new Error(`There is no page '${route.view}'.`));
      return;
    }
    try {
      await view(main, route);
    } catch (err) {
      if (Dash.isCurrent(main)) Dash.showError(err, "The page could not be shown");
    } finally {
      if (again && Dash.isCurrent(main)) {
        const y = window.scrollY;
        holder.replaceChildren(main);
        window.scrollTo(0, y);
      }
    }
  }
  Dash.show = show;

  window.addEventListener("hashchange", show);
  window.addEventListener("error", (e) => Dash.showError(e.error || e.message, "Unexpected error"));
  window.addEventListener("unhandledrejection", (e) => Dash.showError(e.reason, "Unexpected error"));
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("hub-name").textContent = Dash.taskHub;
    document.getElementById("readonly-badge").hidden = !Dash.readOnly;
    if (Dash.readOnly) for (const el of document.querySelectorAll(".action")) el.hidden = true;
    show();
  });
})();
