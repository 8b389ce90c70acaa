/* Dispatch on the situation map: the task board, alarms that sound until acknowledged,
 * keyboard shortcuts, and grid workers on the map. Tasks arrive whole in the live deltas
 * (with a revision, so applying one twice or late changes nothing); worker markers arrive
 * twice a second for those who moved. Every text is set as textContent. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const state = {
    tasks: {}, workers: {}, alarms: {}, query: "", showWorkers: true, workersDirty: false,
    audio: null, beepTimer: null,
  };
  const STALE_S = 600;
  const COLOURS = { on_duty: "#22c55e", busy: "#f59e0b", off: "#64748b", on_leave: "#a78bfa" };
  const lang = () => (document.documentElement.lang === "en" ? "en" : "zh");
  const now = () => Date.now() / 1000;

  function labels() {
    const el = document.getElementById("task-board");
    if (!el || !el.dataset.labels) return {};
    if (!state.labels) state.labels = JSON.parse(el.dataset.labels);
    return state.labels;
  }
  const label = (s) => ((labels()[s] || [s, s])[lang() === "en" ? 1 : 0]);

  function el(tag, cls, value) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (value !== undefined) e.textContent = value;
    return e;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
  }

  // --- tasks -------------------------------------------------------------------------
  function applyTasks(list) {
    for (const task of list || []) {
      const held = state.tasks[task.id];
      if (held && held.rev > task.rev) continue;
      state.tasks[task.id] = task;
    }
    renderBoard();
  }

  async function loadTasks() {
    try {
      const res = await fetch("/api/v1/tasks", { credentials: "same-origin", cache: "no-store" });
      if (res.ok) {
        const body = await res.json();
        state.tasks = {};
        applyTasks(body.tasks);
      }
    } catch (err) { console.warn("dispatch: tasks not loaded", err); }
  }

  function card(task) {
    const li = el("li", "board-card");
    li.dataset.id = task.id;
    li.dataset.event = task.event;
    li.append(el("span", "card-who", ""), el("span", "card-event mono", ""),
      el("span", "card-clock mono", ""));
    li.addEventListener("click", () => gd.live && gd.live.selectEvent(task.event));
    return li;
  }

  function renderBoard() {
    const cols = document.querySelectorAll("#board-cols .board-col");
    if (!cols.length) return;
    const open = Object.values(state.tasks);
    let escalated = 0;
    cols.forEach((col) => {
      const list = col.querySelector(".board-list");
      const held = col.dataset.status.split(" ");
      const mine = open.filter((t) => held.includes(t.status))
        .sort((a, b) => (b.escalation.level - a.escalation.level) || (a.updated_at - b.updated_at));
      col.querySelector(".board-count").textContent = String(mine.length);
      const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
      mine.slice(0, 40).forEach((task, i) => {
        let li = existing.get(task.id);
        if (!li) li = card(task);
        existing.delete(task.id);
        li.children[0].textContent = task.worker.name || task.worker.id;
        const short = `#${String(task.event).split("-").pop()}`;  // the day's number
        li.children[1].textContent = held.length > 1 ? `${label(task.status)} · ${short}` : short;
        li.title = `${task.event} · ${task.worker.name}`;
        li.dataset.since = task.updated_at;
        li.dataset.due = task.status === "assigned" && task.accept_due ? task.accept_due : "";
        li.classList.toggle("is-escalated", task.escalation.level > 0);
        if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
      });
      existing.forEach((li) => li.remove());
      escalated += mine.filter((t) => t.escalation.level > 0).length;
    });
    const summary = document.getElementById("board-summary");
    if (summary) {
      summary.textContent = escalated ? (lang() === "en" ? `${escalated} escalated`
        : `${escalated} 项超时未接单`) : "";
    }
    tickBoard();
  }

  function tickBoard() {
    document.querySelectorAll(".board-card").forEach((li) => {
      const due = Number(li.dataset.due || 0);
      const c = li.children[2];
      if (due) {
        const left = due - now();
        c.textContent = left >= 0 ? clock(left) : `+${clock(-left)}`;
        li.classList.toggle("is-late", left < 0);
      } else {
        c.textContent = clock(now() - Number(li.dataset.since || now()));
      }
    });
  }

  // --- alarms: urgent events and IoT alarms sound and flash until acknowledged -----------
  // an exercise's events are handled like any other, but never sound the real alarm
  function alarming(e) { return !e.drill && (e.severity === "urgent" || e.source === "iot"); }

  function onEvents(payload) {
    if (!payload || payload.kind !== "delta") return;
    const created = new Set((payload.changes || [])
      .filter((c) => c.kind === (gd.live.vocabulary().kinds || {}).created).map((c) => c.id));
    for (const e of payload.events || []) {
      if (created.has(e.id) && alarming(e)) state.alarms[e.id] = e;
    }
    renderAlarms();
  }

  function renderAlarms() {
    const bar = document.getElementById("alert-bar");
    if (!bar) return;
    const list = Object.values(state.alarms);
    const on = list.length > 0;
    bar.classList.toggle("hidden", !on);
    document.body.classList.toggle("is-alarming", on);
    if (on) {
      const newest = list[list.length - 1];
      const cat = lang() === "en" ? newest.category.name_en : newest.category.name;
      document.getElementById("alert-text").textContent = (lang() === "en"
        ? `${list.length} alarm(s) · ${cat} · ${newest.grid.street_name} — press A`
        : `${list.length} 条紧急告警 · ${cat} · ${newest.grid.street_name} — 按 A 确认`);
      startTone();
    } else {
      stopTone();
    }
  }

  function beep() {
    try {
      state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)();
      const ctx = state.audio;
      [0, 0.25].forEach((at) => {
        const osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + at);
        osc.stop(ctx.currentTime + at + 0.2);
      });
    } catch (err) { /* no audio device: the flashing bar still shows */ }
  }
  function startTone() { if (!state.beepTimer) { beep(); state.beepTimer = setInterval(beep, 4000); } }
  function stopTone() { clearInterval(state.beepTimer); state.beepTimer = null; }
  function acknowledge() { state.alarms = {}; renderAlarms(); }

  // --- workers on the map -------------------------------------------------------------------
  function onPositions(msg) {
    if (!msg || !msg.workers) return;
    const at = now();
    for (const [id, lon, lat, acc, age, st] of msg.workers) {
      state.workers[id] = { id, lon, lat, acc, st, seen: at - age };
    }
    state.workersDirty = true;
  }

  async function loadWorkers() {
    try {
      const res = await fetch("/api/v1/workers/positions", { credentials: "same-origin" });
      if (res.ok) onPositions(await res.json());
    } catch (err) { console.warn("dispatch: worker positions not loaded", err); }
  }

  function drawWorkers() {
    if (!state.workersDirty || !window.dash_clientside || !window.dash_clientside.set_props) return;
    state.workersDirty = false;
    const at = now();
    const features = state.showWorkers ? Object.values(state.workers).map((w) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [w.lon, w.lat] },
      properties: { id: w.id, st: w.st, stale: at - w.seen > STALE_S },
    })) : [];
    window.dash_clientside.set_props("workers-layer",
      { data: { type: "FeatureCollection", features: features } });
  }

  const DUTY = { on_duty: ["在岗", "On duty"], busy: ["忙碌", "Busy"], off: ["下班", "Off"],
    on_leave: ["请假", "On leave"] };
  function ago(seconds) {
    const en = lang() === "en";
    if (seconds < 3600) return en ? `${clock(seconds)} ago` : `${clock(seconds)} 前`;
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
    return en ? `${h} h ${m} min ago` : `${h} 小时 ${m} 分前`;
  }

  async function showWorker(id) {
    const panel = document.getElementById("worker-panel");
    const body = document.getElementById("worker-panel-body");
    if (!panel || !body) return;
    const res = await fetch(`/api/v1/workers/${encodeURIComponent(id)}`, { credentials: "same-origin" });
    if (!res.ok) return;
    const w = await res.json();
    body.replaceChildren();
    body.append(el("div", "panel-kicker mono", w.id), el("h2", "panel-title", w.name));
    const rows = [
      [lang() === "en" ? "Role" : "身份", `${w.role_label}${w.party_member ? " · 党员" : ""}`],
      [lang() === "en" ? "Phone" : "电话", w.phone],
      [lang() === "en" ? "Duty" : "状态", (DUTY[w.duty] || [w.duty, w.duty])[lang() === "en" ? 1 : 0]],
      [lang() === "en" ? "Position" : "位置", w.position
        ? `${ago(w.position.age_s)} · ±${Math.round(w.position.accuracy_m)} m`
          + (w.position.stale ? (lang() === "en" ? " (stale)" : "（已过时）") : "") : "—"],
      [lang() === "en" ? "Tasks today" : "今日任务", String(w.tasks_today.length)],
    ];
    const dl = el("dl", "panel-rows");
    rows.forEach(([k, v]) => { const d = el("div", "panel-row"); d.append(el("dt", "", k), el("dd", "", v)); dl.append(d); });
    body.append(dl);
    const ol = el("ol", "timeline");
    w.tasks_today.forEach((t) => {
      const li = el("li", "");
      li.append(el("span", "tl-time mono", t.event), el("span", "tl-what", label(t.status)));
      ol.append(li);
    });
    body.append(ol);
    panel.classList.remove("hidden");
  }

  // --- keyboard -------------------------------------------------------------------------
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  function moveSelection(step) {
    const rows = [...document.querySelectorAll("#event-queue .event-row")];
    if (!rows.length) return;
    const current = rows.findIndex((li) => li.classList.contains("is-selected"));
    const next = rows[Math.min(rows.length - 1, Math.max(0, current + step))] || rows[0];
    rows.forEach((li) => li.classList.toggle("is-selected", li === next));
    next.scrollIntoView({ block: "nearest" });
    gd.live.selectEvent(next.dataset.id);
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const key = ev.key;
    const help = document.getElementById("shortcut-help");
    if (key === "?") { help && help.classList.toggle("hidden"); ev.preventDefault(); return; }
    if (key === "j" || key === "ArrowDown") { moveSelection(1); ev.preventDefault(); return; }
    if (key === "k" || key === "ArrowUp") { moveSelection(-1); ev.preventDefault(); return; }
    if (key === "Enter") {
      const first = document.querySelector(".candidate.first .assign-button");
      if (first) { first.click(); ev.preventDefault(); }
      return;
    }
    if (key === "a" || key === "A") { acknowledge(); return; }
    if (key === "/") { const s = document.getElementById("event-search"); if (s) { s.focus(); ev.preventDefault(); } return; }
    if (key === "w" || key === "W") { state.showWorkers = !state.showWorkers; state.workersDirty = true; drawWorkers(); return; }
    if (key === "b" || key === "B") { const b = document.getElementById("task-board"); b && b.classList.toggle("collapsed"); return; }
    if (key === "Escape") {
      help && help.classList.add("hidden");
      const wp = document.getElementById("worker-panel");
      if (wp) wp.classList.add("hidden");
      const close = document.getElementById("event-panel-close");
      if (close) close.click();
    }
  }

  function onSearch(ev) {
    state.query = String(ev.target.value || "").trim().toLowerCase();
    if (gd.live) gd.live.render();
  }
  function matches(e) {
    if (!state.query) return true;
    const hay = [e.id, e.category.name, e.category.name_en, e.grid.street_name, e.grid.micro,
      e.location.address || ""].join(" ").toLowerCase();
    return hay.includes(state.query);
  }

  function start() {
    document.addEventListener("keydown", onKey);
    document.addEventListener("input", (ev) => { if (ev.target && ev.target.id === "event-search") onSearch(ev); });
    document.addEventListener("click", (ev) => {
      const id = ev.target && ev.target.id;
      if (id === "alert-ack") acknowledge();
      if (id === "worker-panel-close") document.getElementById("worker-panel").classList.add("hidden");
    });
    const wait = setInterval(() => {
      if (!document.getElementById("task-board")) return;
      clearInterval(wait);
      loadTasks();
      loadWorkers();
    }, 300);
    setInterval(tickBoard, 1000);
    setInterval(drawWorkers, 1000);
    setInterval(loadTasks, 60000); // a slow check in case a delta was missed
  }
  window.addEventListener("load", start);

  gd.dispatch = {
    state: state,
    matches: matches,
    showWorker: showWorker,
    onPayload: function (payload) {
      if (!payload) return;
      if (payload.kind === "snapshot") loadTasks();
      else applyTasks(payload.tasks);
      onEvents(payload);
    },
    onPositions: function (msg) { onPositions(msg); return window.dash_clientside.no_update; },
    pointToLayer: function (feature, latlng) {
      const p = feature.properties;
      const k = Math.max(1, window.innerWidth / 1920);
      return L.circleMarker(latlng, { radius: 4.5 * k, color: "#0b1220", weight: 1 * k,
        fillColor: COLOURS[p.st] || "#94a3b8", fillOpacity: p.stale ? 0.25 : 0.9,
        opacity: p.stale ? 0.3 : 1 });
    },
    clusterToLayer: function (feature, latlng) {
      const n = feature.properties.point_count;
      const k = Math.max(1, window.innerWidth / 1920);
      const size = Math.round((20 + Math.min(n, 500) / 40) * k);
      const icon = L.divIcon({ html: `<div><span>${Number(n)}</span></div>`,
        className: "worker-cluster", iconSize: L.point(size, size) });
      return L.marker(latlng, { icon: icon });
    },
    onEachWorker: function (feature, layer) {
      if (feature.properties.cluster) return;
      layer.on("click", () => showWorker(feature.properties.id));
    },
  };
  window.dash_clientside = Object.assign(window.dash_clientside || {}, { grid_dispatch: gd.dispatch });
})();
