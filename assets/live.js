/* Live feed on the situation map: applies deltas from /live to the queue, the event markers
 * and the grid colours, detects gaps and catches up over HTTP after a reconnect.
 * Events carry their full current state and a revision, so applying one twice or out of
 * order changes nothing. Resident text is only ever set as textContent. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const state = {
    seq: null, events: {}, filter: "all", wasConnected: false, connected: false,
    catchingUp: false,
    counts: {}, overdueGrids: {},
  };
  const T = {
    zh: {
      urgent: "紧急", routine: "一般", complex: "复杂", overdue: "超时", left: "剩余",
      tiers: { micro: "微网格", general: "一般网格", total: "总网格", street: "街道中心" },
      dataDown: "数据服务不可用，正在重试", drill: "演练",
    },
    en: {
      urgent: "Urgent", routine: "Routine", complex: "Complex", overdue: "overdue", left: "left",
      tiers: { micro: "micro", general: "general", total: "total", street: "street centre" },
      dataDown: "Data service unavailable, retrying", drill: "Drill",
    },
  };
  // Which statuses are open, their labels and the kinds of change (vocabulary().kinds.created
  // and so on) come from the server (the page's data-vocab, built from the Python enums),
  // never from a copy kept here.
  let vocab = null;
  function vocabulary() {
    if (vocab) return vocab;
    const shell = document.querySelector(".app-shell");
    const raw = shell && shell.dataset.vocab;
    if (!raw) return { open: new Set(), labels: { zh: {}, en: {} }, kinds: {} };
    const parsed = JSON.parse(raw);
    vocab = { open: new Set(parsed.open), labels: parsed.labels, kinds: parsed.kinds || {} };
    return vocab;
  }
  const isOpen = (status) => vocabulary().open.has(status);

  const lang = () => (document.documentElement.lang === "en" ? "en" : "zh");
  const seqKey = (s) => { const [a, b] = String(s).split("-"); return [Number(a), Number(b || 0)]; };
  const seqCmp = (a, b) => { const x = seqKey(a), y = seqKey(b); return x[0] - y[0] || x[1] - y[1]; };
  const now = () => Date.now() / 1000;
  const isOverdue = (e) => isOpen(e.status) && e.due_at && now() > e.due_at;
  // Events a drill raised are exercise data: listed with a badge, never counted as real ones.
  const isReal = (e) => !e.drill;

  function apply(payload) {
    if (!payload) return false;
    if (payload.kind === "snapshot") {
      state.events = {};
    } else if (state.seq && payload.prev && seqCmp(payload.prev, state.seq) > 0) {
      catchUp(); // a delta this room sent earlier never reached us
    }
    for (const e of payload.events || []) {
      const held = state.events[e.id];
      if (!held || e.rev >= held.rev) state.events[e.id] = e;
      if (!isOpen(e.status)) delete state.events[e.id];
    }
    if (!state.seq || seqCmp(payload.seq, state.seq) > 0) state.seq = payload.seq;
    render();
    if (gd.dispatch) gd.dispatch.onPayload(payload);
    return true;
  }

  async function catchUp() {
    if (state.catchingUp) return;
    state.catchingUp = true;
    try {
      const q = state.seq ? `?since=${encodeURIComponent(state.seq)}` : "";
      const res = await fetch(`/api/v1/live/changes${q}`, { cache: "no-store", credentials: "same-origin" });
      if (res.ok) apply(await res.json());
      else if (res.status === 503) checkHealth();
    } catch (err) {
      console.warn("live: catch-up failed, will retry on next reconnect", err);
    } finally {
      state.catchingUp = false;
    }
  }

  function ordered() {
    const list = Object.values(state.events);
    const rank = (e) => [isOverdue(e) ? 0 : 1, -(e.escalation ? e.escalation.level : 0),
      e.severity === "urgent" ? 0 : 1, -e.created_at];
    list.sort((a, b) => {
      const x = rank(a), y = rank(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    });
    const search = gd.dispatch ? gd.dispatch.matches : () => true;
    return list.filter((e) => search(e) && (state.filter === "all" ||
      (state.filter === "overdue" ? isOverdue(e) : e.severity === "urgent")));
  }

  function text(tag, cls, value) {
    const el = document.createElement(tag);
    el.className = cls;
    el.textContent = value;
    return el;
  }

  function row(e) {
    const li = document.createElement("li");
    li.className = "event-row fade-in";
    li.dataset.id = e.id;
    const title = text("span", "row-title", "");
    title.append(text("span", "drill-badge hidden", ""), text("span", "row-title-text", ""));
    li.append(text("span", "sev-dot", ""), title,
      text("span", "row-where", ""), text("span", "row-status", ""), text("span", "row-clock", ""));
    li.addEventListener("click", () => select(e.id));
    return li;
  }

  function fill(li, e) {
    const t = T[lang()];
    const cat = lang() === "en" ? e.category.name_en : e.category.name;
    li.className = `event-row row-${e.severity}${isOverdue(e) ? " is-overdue" : ""}` +
      `${li.classList.contains("fade-in") ? " fade-in" : ""}` +
      `${state.selected === e.id ? " is-selected" : ""}`;
    li.children[1].lastChild.textContent = cat + (e.count > 1 ? ` ×${e.count}` : "");
    const badge = li.children[1].firstChild;
    badge.textContent = e.drill ? t.drill : "";
    badge.classList.toggle("hidden", !e.drill);
    li.classList.toggle("is-drill", !!e.drill);
    const street = (lang() === "en" && e.grid.street_name_en) || e.grid.street_name;
    li.children[2].textContent = `${street} · ${e.location.address || e.grid.micro}`;
    const esc = e.escalation && e.escalation.level ? ` ↑${t.tiers[e.escalation.tier]}` : "";
    li.children[3].textContent = (vocabulary().labels[lang()][e.status] || e.status) + esc;
    li.dataset.due = e.due_at || "";
  }

  function render() {
    const queue = document.getElementById("event-queue");
    if (!queue) return;
    const list = ordered().slice(0, 300);
    const existing = new Map([...queue.children].map((li) => [li.dataset.id, li]));
    list.forEach((e, i) => {
      let li = existing.get(e.id);
      if (!li) li = row(e);
      existing.delete(e.id);
      fill(li, e);
      if (queue.children[i] !== li) queue.insertBefore(li, queue.children[i] || null);
    });
    existing.forEach((li) => li.remove());
    queue.classList.toggle("is-empty", list.length === 0);
    tickClocks();
    renderCounts();
    colourGrids();
    window.dash_clientside.set_props("events-layer", { data: features() });
    showDataBanner();
  }

  // The data service: /healthz says whether this server reaches Redis. While it does not, a
  // banner says so (the socket stays up, so the connection banner cannot); when it does again,
  // the banner goes and the screen catches up by seq, so nothing changed meanwhile is missed.
  const HEALTH_OK_MS = 5000, HEALTH_DOWN_MS = 1500, RENEW_AFTER_MS = 15000;
  const health = { down: false, timer: null, stuckSince: null, renewals: 0, renewed: 0,
    lang: null };

  async function checkHealth() {
    clearTimeout(health.timer);
    let redis = null; // null: the server itself did not answer (the connection banner says so)
    try {
      const res = await fetch("/healthz", { cache: "no-store", credentials: "same-origin" });
      redis = (await res.json()).redis === true;
    } catch (err) {
      redis = null;
    }
    if (redis === false) health.down = true;
    if (redis === true && health.down) {
      health.down = false;
      catchUp();
    }
    showDataBanner();
    rememberLang();
    renewSocketIfStuck(redis === true);
    health.timer = setTimeout(checkHealth, health.down ? HEALTH_DOWN_MS : HEALTH_OK_MS);
  }

  function showDataBanner() {
    const anchor = document.getElementById("live-banner");
    if (!anchor) return;
    let el = document.getElementById("data-banner");
    if (!el) {
      el = document.createElement("div");
      el.id = "data-banner";
      el.className = "live-banner data-banner hidden";
      el.setAttribute("role", "alert");
      anchor.after(el);
    }
    el.textContent = T[lang()].dataDown;
    el.classList.toggle("hidden", !health.down);
  }

  // The server's own error pages (a reload while Redis is away) speak the screen's language.
  function rememberLang() {
    if (health.lang === lang()) return;
    health.lang = lang();
    document.cookie = `lang=${health.lang}; path=/; max-age=31536000; SameSite=Lax`;
  }

  // A socket whose connect the server refused (Redis was away while it reconnected) is not
  // tried again by the client library; once the server is healthy, the page opens a new one.
  function renewSocketIfStuck(healthy) {
    // Only on a screen with the live feed (the drill screen has its own socket, not this one).
    if (!document.getElementById("live-banner")) return;
    if (!healthy || state.connected) {
      health.stuckSince = null;
      return;
    }
    const wait = Math.min(RENEW_AFTER_MS * 2 ** health.renewals, 300000);
    health.stuckSince = health.stuckSince || Date.now();
    if (Date.now() - health.stuckSince < wait) return;
    health.stuckSince = Date.now();
    health.renewals += 1;
    health.renewed += 1;
    window.dash_clientside.set_props("live", {
      options: { forceNew: true, query: { renew: String(health.renewed) } },
    });
  }
  window.addEventListener("load", () => { health.timer = setTimeout(checkHealth, 1000); });

  function renderCounts() {
    const all = Object.values(state.events).filter(isReal);
    const set = (id, n) => { const el = document.getElementById(id); if (el) el.textContent = String(n); };
    set("count-open", all.length);
    set("count-overdue", all.filter(isOverdue).length);
    set("count-urgent", all.filter((e) => e.severity === "urgent").length);
  }

  function tickClocks() {
    const t = T[lang()];
    document.querySelectorAll("#event-queue .event-row, .countdown").forEach((el) => {
      const due = Number(el.dataset.due || 0);
      const target = el.classList.contains("countdown") ? el : el.querySelector(".row-clock");
      if (!target) return;
      if (!due) { target.textContent = ""; return; }
      const left = Math.round(due - now());
      const abs = Math.abs(left);
      const hh = Math.floor(abs / 3600), mm = Math.floor((abs % 3600) / 60), ss = abs % 60;
      const span = (hh ? `${hh}:` : "") + `${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
      target.textContent = left >= 0 ? `${t.left} ${span}` : `${t.overdue} +${span}`;
      target.classList.toggle("late", left < 0);
    });
  }
  setInterval(tickClocks, 1000);

  function colourGrids() {
    const counts = {}, overdue = {};
    for (const e of Object.values(state.events).filter(isReal)) {
      for (const code of [e.grid.micro, e.grid.total]) {
        counts[code] = (counts[code] || 0) + 1;
        if (isOverdue(e)) overdue[code] = true;
      }
    }
    const changed = new Set([...Object.keys(counts), ...Object.keys(state.counts)]);
    state.counts = counts;
    state.overdueGrids = overdue;
    for (const code of changed) {
      const tier = code.length > 14 ? "micro" : "total";
      const layer = gd.map && gd.map.layer(tier, code);
      if (layer && gd.map.restyle) gd.map.restyle(layer);
    }
  }

  // Extra style for a grid layer from the live feed (used by grid_map.js's restyle).
  function gridStyle(tier, code) {
    const n = state.counts[code] || 0;
    if (!n || (tier !== "micro" && tier !== "total")) return null;
    const late = state.overdueGrids[code];
    const opacity = tier === "total" ? Math.min(0.15 + 0.05 * n, 0.55) : Math.min(0.35 + 0.15 * n, 0.8);
    return { fillColor: late ? "#f59e0b" : "#38bdf8", fillOpacity: opacity };
  }

  function features() {
    return {
      type: "FeatureCollection",
      features: Object.values(state.events).map((e) => ({
        type: "Feature",
        // location.map: where the map draws it when the map is not in WGS-84 (Amap tiles).
        geometry: { type: "Point", coordinates: e.location.map || [e.location.lon, e.location.lat] },
        properties: { id: e.id, severity: e.severity, overdue: isOverdue(e), drill: !!e.drill },
      })),
    };
  }

  function select(id) {
    state.selected = id;
    window.dash_clientside.set_props("selected-event", { data: { id: id, at: Date.now() } });
  }

  // The open panel is redrawn only when its own event changed, so a reason being typed and
  // the running clock are not reset by every other event's delta.
  function selectedKey() {
    const e = state.selected && state.events[state.selected];
    return e ? `${e.id}:${e.rev}` : null;
  }

  gd.live = {
    state: state,
    health: health,
    checkHealth: checkHealth,
    render: render,
    gridStyle: gridStyle,
    vocabulary: vocabulary,
    selectEvent: function (id) { select(id); render(); },
    onMessage: function (delta, snapshot) {
      const trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
      apply(trig.endsWith("data-snapshot") ? snapshot : delta);
      const key = selectedKey();
      if (key === state.panelKey) return window.dash_clientside.no_update;
      state.panelKey = key;
      return key;
    },
    onConnected: function (connected) {
      state.connected = !!connected;
      if (connected) health.renewals = 0;
      if (connected && state.wasConnected === "lost") catchUp();
      if (connected) state.wasConnected = true;
      else if (state.wasConnected) state.wasConnected = "lost";
      const conn = document.getElementById("conn");
      if (conn && state.wasConnected) {
        conn.classList.toggle("conn-bad", !connected);
        conn.classList.toggle("conn-ok", !!connected);
      }
      return connected || !state.wasConnected ? "live-banner hidden" : "live-banner";
    },
    setFilter: function () {
      const trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
      const m = trig.match(/^filter-(\w+)\.n_clicks$/);
      if (m) state.filter = m[1];
      document.querySelectorAll(".filter-button").forEach((b) =>
        b.classList.toggle("active", b.dataset.filter === state.filter));
      render();
      return "event-queue";
    },
    closePanel: function () { state.selected = null; return null; },
    pointToLayer: function (feature, latlng) {
      const p = feature.properties;
      const colour = p.overdue ? "#f59e0b" : p.severity === "urgent" ? "#ef4444" : "#38bdf8";
      const k = Math.max(1, window.innerWidth / 1920);
      // A drill's events keep their colour but wear a white dashed ring: exercise, not real.
      return L.circleMarker(latlng, { radius: 7 * k, color: p.drill ? "#e2e8f0" : "#07111f",
        weight: (p.drill ? 2 : 1.5) * k, dashArray: p.drill ? `${3 * k} ${2 * k}` : null,
        fillColor: colour, fillOpacity: p.drill ? 0.6 : 0.95 });
    },
    clusterToLayer: function (feature, latlng) {
      const n = feature.properties.point_count;
      const k = Math.max(1, window.innerWidth / 1920);
      const size = Math.round((26 + Math.min(n, 200) / 10) * k);
      const icon = L.divIcon({ html: `<div><span>${Number(n)}</span></div>`,
        className: "event-cluster", iconSize: L.point(size, size) });
      return L.marker(latlng, { icon: icon });
    },
    onEachEvent: function (feature, layer) {
      if (feature.properties.cluster) return;
      layer.on("click", () => select(feature.properties.id));
    },
  };
  window.dash_clientside = Object.assign(window.dash_clientside || {}, { grid_live: gd.live });
})();
