/* The drill screen's right column and replay: who is missing (muster) or which priority
 * households are not yet reached (sweep), the cumulative chart, and the replay of a finished
 * drill.
 *
 * The chart's curve is loaded once from the figures endpoint and extended from the feed; its
 * Plotly layout comes from the page (one template, in Python). The replay shows exactly what
 * GET …/replay?t= answers for the chosen second. Names, addresses and phones are only ever
 * set as text. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const D = (gd.drills = gd.drills || {});
  const BOARD_MS = 5000, SHOWN = 40, CHART_MS = 2000, WINDOW_S = 180;
  const P = {
    rows: [], editing: null, timer: null, help: 0,
    series: { curve: [[0, 0]], total: 0, target_s: 900, pass_share: 1, as_of: 0 },
    chartAt: 0, chartDirty: true,
    replay: { value: null }, // the replayed drill second, marked on the chart
  };
  const api = (path) => `/api/v1/drills/${encodeURIComponent(D.state.id)}${path}`;

  async function getJSON(path) {
    const res = await fetch(api(path), { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) throw Object.assign(new Error(`${res.status}`), { status: res.status });
    return res.json();
  }

  async function postJSON(path, body) {
    const res = await fetch(api(path), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(out.message || `${res.status}`);
    return out;
  }

  // --- who is missing / not reached -----------------------------------------------------------
  async function loadPeople() {
    if (!D.state.id) return;
    const sweep = D.isSweep();
    if (sweep && !D.state.canCall) return note(D.tr("drills.pending.denied"));
    try {
      if (sweep) {
        P.rows = (await getJSON("/pending")).households;
      } else {
        const board = (await getJSON("/responders")).responders;
        if (D.map) D.map.setBoard(board);
        P.rows = board.filter((r) => r.status !== D.state.vocab.arrived);
      }
      renderPeople();
    } catch (err) {
      if (err.status === 403) note(D.tr("drills.pending.denied"));
      else console.warn("drills: people not loaded", err);
    }
  }

  function note(text) {
    const el = document.getElementById("drill-people-note");
    if (el) el.textContent = text;
  }

  function ago(seconds) {
    return `${gd.drillClock.format(seconds)} ${D.tr("drills.ago")}`;
  }

  function renderPeople() {
    const ul = document.getElementById("drill-people");
    if (!ul) return;
    const sweep = D.isSweep();
    const key = (r) => (sweep ? r.id : r.worker);
    const shown = P.rows.slice(0, SHOWN);
    const existing = new Map([...ul.children].map((li) => [li.dataset.key, li]));
    shown.forEach((r, i) => {
      let li = existing.get(key(r));
      if (!li) li = personRow(key(r), sweep);
      existing.delete(key(r));
      (sweep ? fillHousehold : fillResponder)(li, r);
      if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
    });
    existing.forEach((li, k) => { if (k !== P.editing) li.remove(); });
    const more = P.rows.length - shown.length;
    note(!P.rows.length ? D.tr(sweep ? "drills.pending.none" : "drills.missing.none")
      : more > 0 ? `${D.tr("drills.more")} ${more}` : "");
  }

  function personRow(key, sweep) {
    const li = D.el("li", "person fade-in");
    li.dataset.key = key;
    li.append(D.el("span", "person-name"), D.el("span", "person-status"),
      D.el("span", "person-where"), D.el("span", "person-phone mono"));
    if (!sweep) li.append(actions(key));
    return li;
  }

  function fillResponder(li, r) {
    const [name, status, where, phone] = li.children;
    name.textContent = r.name || r.worker;
    status.textContent = D.tr(`drills.steps.${r.status}`);
    status.dataset.status = r.status;
    const pos = r.position;
    where.textContent = pos ? `${ago(pos.age_s)}${pos.stale ? ` (${D.tr("drills.stale")})` : ""}`
      + ` · ${D.tr("drills.to_point")} ${pos.to_point_m.toLocaleString("en-US")} m`
      : D.tr("drills.no_fix");
    if (!li.dataset.revealed) phone.textContent = r.phone || "";
  }

  function fillHousehold(li, h) {
    const [name, status, where, phone] = li.children;
    name.textContent = h.address || h.id;
    status.textContent = (h.tags || []).join(" · ");
    where.textContent = [h.head, h.members ? `×${h.members}` : ""].filter(Boolean).join(" · ");
    phone.textContent = h.phone || "";
  }

  /* Override (coordinator) and call (reveal the number; coordinator or operator): each asks
   * for a reason first, in the row, and the server keeps it in the audit. */
  function actions(worker) {
    const box = D.el("span", "person-actions");
    const kinds = [];
    if (D.state.canRun) kinds.push(["override", "drills.override"]);
    if (D.state.canCall) kinds.push(["reveal", "drills.call"]);
    for (const [what, key] of kinds) {
      const b = D.el("button", `person-action action-${what}`, D.tr(key));
      b.dataset.key = key;
      b.addEventListener("click", () => askReason(box, worker, what));
      box.append(b);
    }
    return box;
  }

  function askReason(box, worker, what) {
    P.editing = worker;
    const form = D.el("span", "reason-form");
    const input = D.el("input", "reason-input");
    input.placeholder = D.tr("drills.reason");
    input.maxLength = 200;
    const ok = D.el("button", "person-action", D.tr("drills.confirm"));
    const no = D.el("button", "person-action", D.tr("drills.cancel"));
    const done = () => { P.editing = null; form.remove(); box.classList.remove("is-asking"); };
    no.addEventListener("click", done);
    ok.addEventListener("click", async () => {
      if (input.value.trim().length < 4) { input.focus(); return; }
      try {
        const out = await postJSON(`/responders/${encodeURIComponent(worker)}/${what}`,
          { reason: input.value.trim() });
        if (what === "reveal") showNumber(box.parentElement, out.phone);
        done();
        loadPeople();
      } catch (err) { input.value = ""; input.placeholder = `${D.tr("drills.refused")}: ${err.message}`; }
    });
    form.append(input, ok, no);
    box.classList.add("is-asking");
    box.append(form);
    input.focus();
  }

  function showNumber(li, phone) {
    const el = li.querySelector(".person-phone");
    li.dataset.revealed = "1";
    el.replaceChildren();
    const a = D.el("a", "person-tel", phone);
    a.href = `tel:${String(phone).replace(/[^\d+]/g, "")}`;
    el.append(a);
  }

  // --- the chart ------------------------------------------------------------------------------
  async function loadFigures() {
    if (!D.state.id) return;
    try {
      const f = await getJSON("/figures");
      P.series.curve = f.curve && f.curve.length ? f.curve : [[0, 0]];
      P.help = f.help_count || 0;
      renderHelp();
      extend(D.state.view);
    } catch (err) { console.warn("drills: figures not loaded", err); }
  }

  function extend(view) {
    if (!view) return;
    const s = P.series, done = view.progress.done, t = view.clock.elapsed_s;
    Object.assign(s, { total: view.progress.total, target_s: view.clock.target_s,
      pass_share: view.pass_share, as_of: t, running: D.isLive(view.status),
      title: D.tr(D.isSweep() ? "drills.chart.sweep" : "drills.chart.muster") });
    const last = s.curve[s.curve.length - 1];
    if (done > last[1]) s.curve.push([Math.max(t, last[0]), done]);
    s.projected = projected(s.curve, s.total, t);
    P.chartDirty = true;
    publishChart();
  }

  /* When the last one would come at the rate of the last three minutes (as the report does). */
  function projected(curve, total, now) {
    const last = curve[curve.length - 1];
    if (!total || last[1] >= total) return null;
    const start = Math.max(0, now - WINDOW_S);
    let before = 0;
    for (const [t, n] of curve) if (t <= start) before = n;
    const recent = last[1] - before, span = now - start;
    return recent > 0 && span > 0 ? now + ((total - last[1]) * span) / recent : null;
  }

  function publishChart(force) {
    if (!D.state.booted || !P.chartDirty || (!force && Date.now() - P.chartAt < CHART_MS)) return;
    P.chartAt = Date.now();
    P.chartDirty = false;
    const labels = {};
    for (const k of ["actual", "target", "pass", "projected", "minutes"]) labels[k] = D.tr(`drills.chart.${k}`);
    window.dash_clientside.set_props("drill-chart-series",
      { data: Object.assign({}, P.series, { labels: labels, replay_t: P.replay.value }) });
  }
  setInterval(() => publishChart(), CHART_MS);
  // Sizes follow the screen's width: a wall that changes size gets its chart redrawn.
  window.addEventListener("resize", () => { P.chartDirty = true; });

  function figure(series, base) {
    const k = Math.max(1, window.innerWidth / 1920), s = series;
    const min = (t) => t / 60, top = Math.max(s.total, 1);
    const curve = s.curve.concat(s.as_of > s.curve[s.curve.length - 1][0]
      ? [[s.as_of, s.curve[s.curve.length - 1][1]]] : []);
    const end = Math.max(s.target_s * 1.15, s.as_of, s.projected || 0, 60);
    const traces = [
      { x: curve.map((p) => min(p[0])), y: curve.map((p) => p[1]), name: s.labels.actual,
        mode: "lines", line: { shape: "hv", width: 3 * k, color: "#38bdf8" }, fill: "tozeroy",
        fillcolor: "rgba(56, 189, 248, 0.12)" },
      { x: [min(s.target_s), min(s.target_s)], y: [0, top], name: s.labels.target,
        mode: "lines", line: { dash: "dash", width: 2 * k, color: "#ffb703" } },
      { x: [0, min(end)], y: [s.pass_share * s.total, s.pass_share * s.total], name: s.labels.pass,
        mode: "lines", line: { dash: "dot", width: 2 * k, color: "#8fa8c2" } },
    ];
    if (s.projected && s.running) {
      const last = curve[curve.length - 1];
      traces.push({ x: [min(last[0]), min(s.projected)], y: [last[1], s.total],
        name: s.labels.projected, mode: "lines",
        line: { dash: "dashdot", width: 2 * k, color: "#38bdf8" } });
    }
    return { data: traces, layout: layoutFor(base, s, k, min(end), top) };
  }

  function layoutFor(base, s, k, xmax, top) {
    const layout = JSON.parse(JSON.stringify(base || {}));
    const grow = (obj, key) => { if (obj && obj[key]) obj[key] = obj[key] * k; };
    grow(layout.font, "size");
    for (const ax of ["xaxis", "yaxis"]) grow(layout[ax] && layout[ax].tickfont, "size");
    grow(layout.legend && layout.legend.font, "size");
    for (const side of ["l", "r", "t", "b"]) grow(layout.margin, side);
    layout.xaxis = Object.assign(layout.xaxis || {}, { range: [0, xmax] });
    layout.yaxis = Object.assign(layout.yaxis || {}, { range: [0, top * 1.05] });
    if (s.replay_t != null) {
      layout.shapes = [{ type: "line", x0: s.replay_t / 60, x1: s.replay_t / 60, y0: 0, y1: top,
        line: { color: "#e6f0fa", width: 1.5 * k } }];
    }
    return layout;
  }

  function renderHelp() {
    const el = document.getElementById("drill-help");
    if (el) el.textContent = P.help ? `${D.tr("drills.help")} ${P.help}` : "";
  }

  D.panels = {
    state: P,
    boot: function () {
      loadPeople();
      loadFigures();
      clearInterval(P.timer);
      P.timer = setInterval(loadPeople, BOARD_MS);
    },
    reload: function () { loadPeople(); loadFigures(); },
    relabel: function () {
      renderPeople();
      renderHelp();
      document.querySelectorAll(".person-action[data-key]").forEach((b) => { b.textContent = D.tr(b.dataset.key); });
      P.chartDirty = true;
      extend(D.state.view);
      publishChart(true);
      if (D.replay) D.replay.relabel();
    },
    onView: function (view, was) {
      extend(view);
      if (was && was !== view.status && D.isOver(view.status)) D.replay.open(view);
    },
    applyDelta: function (msg) {
      if (msg.help && msg.help.length) { P.help += msg.help.length; renderHelp(); }
      const arrived = new Set((msg.steps || []).filter((s) => s[1] === D.state.vocab.arrived)
        .map((s) => s[0]));
      if (arrived.size && !D.isSweep()) {
        P.rows = P.rows.filter((r) => !arrived.has(r.worker));
        renderPeople();
      }
    },
  };
  D.chart = function (series, base) {
    if (!series) return window.dash_clientside.no_update;
    return figure(series, base);
  };
  D.P = P;
})();
