// The timeline (Gantt) of one execution, built from its history as the status endpoint
// shows it (showHistory=true): the orchestration itself, each activity (from ScheduledTime
// to its completion, retries numbered), each sub-orchestration (linked), each timer (created
// to fired, or to its due time) and each external event (a point). One row per item, bars
// placed in percent of the execution's span; built as one string so thousands of rows render
// in one layout pass.
"use strict";
(function () {
  const Dash = window.Dash;
  const FINISHED = new Set(["ExecutionCompleted", "ExecutionTerminated"]);
  // EventType -> how the item it describes is drawn: [kind, css class, running?]
  const KINDS = {
    TaskCompleted: ["activity", "", false], TaskFailed: ["activity", "failed", false],
    TaskScheduled: ["activity", "running", true],
    SubOrchestrationInstanceCompleted: ["suborchestration", "suborchestration", false],
    SubOrchestrationInstanceFailed: ["suborchestration", "failed", false],
    SubOrchestrationInstanceCreated: ["suborchestration", "running", true],
  };

  function ms(iso) { const t = Date.parse(iso); return isNaN(t) ? null : t; }

  // The items of the timeline: {kind, label, start, end, css, link, note}
  Dash.timelineItems = function (history, status) {
    const items = [];
    const started = history.find((e) => e.EventType === "ExecutionStarted");
    const finished = history.find((e) => FINISHED.has(e.EventType));
    const now = Date.now();
    const begin = ms(started ? started.Timestamp : status.createdTime) || now;
    const end = finished ? ms(finished.Timestamp) : (ms(status.lastUpdatedTime) || now);
    const openEnd = finished ? end : Math.max(end, now);
    items.push({ kind: "orchestration", label: status.name || "orchestration", start: begin,
      end: openEnd, css: finished ? "orchestration" : "running", note: status.runtimeStatus });
    const attempts = {};
    const fired = new Set(history.filter((e) => e.EventType === "TimerFired").map((e) => e.FireAt));
    for (const e of history) {
      const shape = KINDS[e.EventType];
      if (shape) {
        const [kind, css, running] = shape;
        const name = e.FunctionName || e.Name || "?";
        const key = kind + ":" + name;
        attempts[key] = (attempts[key] || 0) + 1;
        const retry = kind === "activity" && attempts[key] > 1 ? ` (#${attempts[key]})` : "";
        const start = ms(running ? e.Timestamp : (e.ScheduledTime || e.Timestamp));
        items.push({ kind, label: name + retry, start, end: running ? openEnd : ms(e.Timestamp),
          css: css || (kind === "activity" ? "" : css), link: e.InstanceId,
          note: running ? "running" : e.EventType.replace(/^(Task|SubOrchestrationInstance)/, "") });
      } else if (e.EventType === "TimerCreated") {
        const due = ms(e.FireAt);
        const done = fired.has(e.FireAt);
        items.push({ kind: "timer", label: `timer until ${Dash.time(e.FireAt)}`,
          start: ms(e.Timestamp), end: done ? due : Math.min(due, openEnd), css: "timer",
          note: done ? "fired" : (finished ? "not fired" : "waiting") });
      } else if (e.EventType === "EventRaised") {
        const t = ms(e.Timestamp);
        items.push({ kind: "event", label: `event ${e.Name}`, start: t, end: t, css: "event",
          note: "raised" });
      }
    }
    return items;
  };

  Dash.timeline = function (history, status) {
    const items = Dash.timelineItems(history, status);
    const starts = items.map((i) => i.start).filter((t) => t !== null);
    const ends = items.map((i) => i.end).filter((t) => t !== null);
    const t0 = Math.min(...starts), t1 = Math.max(...ends, t0 + 1);
    const span = t1 - t0;
    const rows = items.map((item) => {
      const start = item.start === null ? t0 : item.start;
      const end = item.end === null ? start : item.end;
      const left = ((start - t0) / span) * 100;
      const width = Math.max(0, ((end - start) / span) * 100);
      const took = item.kind === "event" ? "" : Dash.duration(end - start);
      const title = `${item.label}: ${item.note || ""} ${took}`.trim();
      const label = item.link
        ? `${Dash.esc(item.label)} ${Dash.instanceLink(item.link)}` : Dash.esc(item.label);
      return `<div class="tl-row" data-kind="${item.kind}" title="${Dash.esc(title)}">` +
        `<div class="tl-label">${label}</div><div class="tl-track"><div class="tl-bar ${item.css}" ` +
        `style="left:${left.toFixed(3)}%;width:${width.toFixed(3)}%"></div></div>` +
        `<div class="tl-dur">${took || Dash.esc(item.note)}</div></div>`;
    });
    const legend = [["orchestration", "#3a4460"], ["activity", "var(--ok)"],
      ["failed", "var(--fail)"], ["running", "var(--run)"], ["sub-orchestration", "#4d8c8c"],
      ["timer", "var(--timer)"], ["external event", "var(--event)"]]
      .map(([n, c]) => `<span style="--c:${c}">${n}</span>`).join("");
    return `<div class="legend">${legend}<span class="muted">span ${Dash.duration(span)} ` +
      `from ${Dash.time(new Date(t0).toISOString())}</span></div>` +
      `<div class="timeline" id="timeline">${rows.join("")}</div>`;
  };
})();
