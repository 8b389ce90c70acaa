/* The drill screen: the drill's header, countdown, figures, controls and the list of drills.
 *
 * The page is drawn once; the /drills feed then sends, each second, every live drill's view
 * (the summary) and, twice a second, what the shown drill's stream gained (the delta). This
 * file applies the drill's view; drills_map.js the map, drills_panels.js the side panels,
 * the chart and the replay. The countdown runs from the server's clock (gridDispatch.
 * drillClock), so every screen shows the same figure. Every text is set with textContent. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const D = (gd.drills = gd.drills || {});
  const lang = () => (document.documentElement.lang === "en" ? "en" : "zh");
  const state = (D.state = {
    booted: false, id: "", kind: "", view: null, texts: {}, vocab: {}, canRun: false,
    canCall: false, list: {}, liveIds: "", shownStatus: null, connected: false, everUp: false,
  });

  // --- reading the page ----------------------------------------------------------------------
  function boot() {
    if (state.booted) return true;
    const shell = document.getElementById("drills-shell");
    if (!shell) return false;
    const data = shell.dataset;
    state.booted = true;
    state.id = data.drill || "";
    state.kind = data.kind || "";
    state.texts = JSON.parse(data.texts || "{}");
    state.vocab = JSON.parse(data.drillVocab || "{}");
    state.canRun = data.canRun === "1";
    state.canCall = data.canCall === "1";
    const view = JSON.parse(data.view || "{}");
    if (view && view.id) applyView(view);
    loadList();
    if (D.map) D.map.boot();
    if (D.panels) D.panels.boot();
    return true;
  }

  function tr(key) {
    const pair = state.texts[key];
    return pair ? pair[lang() === "en" ? 1 : 0] : key;
  }
  D.tr = tr;
  D.el = function (tag, cls, value) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (value !== undefined && value !== null) e.textContent = String(value);
    return e;
  };
  const setText = (id, value) => {
    const e = document.getElementById(id);
    if (e && e.textContent !== String(value)) e.textContent = String(value);
    return e;
  };
  D.isOver = (status) => (state.vocab.over || []).includes(status);
  D.isLive = (status) => (state.vocab.live || []).includes(status);
  D.isSweep = () => state.kind !== "" && state.kind === state.vocab.sweep;

  // --- the shown drill -----------------------------------------------------------------------
  function applyView(view) {
    if (!view || !view.id || (state.id && view.id !== state.id)) return;
    if (gd.drillClock && view.clock) gd.drillClock.noteServerTime(view.clock.server_now);
    const was = state.view ? state.view.status : null;
    state.view = view;
    const shell = document.getElementById("drills-shell");
    if (shell) shell.classList.toggle("is-over", D.isOver(view.status));
    renderHeading();
    renderProgress();
    renderControls();
    tick();
    if (D.panels) D.panels.onView(view, was);
    state.list[view.id] = view;
  }

  function renderHeading() {
    const v = state.view;
    setText("drill-title", v.title || v.scope_name || v.id);
    const status = setText("drill-status", tr(`drills.status.${v.status}`));
    if (status) status.dataset.status = v.status;
    const meta = [tr(`drills.kind.${v.kind}`), v.scope_name || v.scope];
    if (v.simulated) meta.push(tr("drills.simulated"));
    if (v.clock && v.clock.speed !== 1) meta.push(`×${v.clock.speed}`);
    setText("drill-meta", meta.join(" · "));
  }

  function renderProgress() {
    const p = state.view.progress || { done: 0, total: 0, share: 0, steps: {} };
    setText("drill-progress-done", p.done.toLocaleString("en-US"));
    setText("drill-progress-total", p.total.toLocaleString("en-US"));
    setText("drill-progress-share", `${(p.share * 100).toFixed(1)} %`);
    const figure = document.getElementById("drill-progress");
    if (figure) figure.classList.toggle("is-long", figure.textContent.length > 18);
    const bar = document.getElementById("drill-progress-bar");
    if (bar) bar.style.width = `${Math.min(100, p.share * 100)}%`;
    const mark = document.getElementById("drill-progress-pass");
    if (mark) mark.style.left = `${(state.view.pass_share || 1) * 100}%`;
    for (const [step, n] of Object.entries(p.steps || {})) setText(`drill-step-${step}`, n);
  }

  /* Enable the actions the drill's status allows (the server refuses the rest anyway). */
  function renderControls() {
    if (!state.canRun || state.shownStatus === state.view.status) return;
    state.shownStatus = state.view.status;
    const allowed = (state.vocab.moves || {})[state.view.status] || [];
    for (const action of Object.values(state.vocab.moves || {}).flat()) {
      if (document.getElementById(`drill-${action}`)) {
        window.dash_clientside.set_props(`drill-${action}`, { disabled: !allowed.includes(action) });
      }
    }
  }

  function tick() {
    if (!state.booted) boot();
    const v = state.view;
    const el = document.getElementById("drill-countdown");
    if (!v || !el || !gd.drillClock) return;
    const c = gd.drillClock.countdown(v.clock);
    setText("drill-countdown", c.text);
    el.classList.toggle("late", c.late);
    el.classList.toggle("is-long", c.text.length > 6); // an hour or more: h:mm:ss
    el.classList.toggle("is-paused", v.clock.paused_at != null);
    const target = gd.drillClock.format(v.clock.target_s);
    setText("drill-countdown-note",
      `${tr(c.late ? "drills.overtime" : "drills.left")} · ${tr("drills.chart.target")} ${target}`);
  }
  setInterval(tick, 250);

  // --- the list of drills --------------------------------------------------------------------
  async function loadList() {
    try {
      const res = await fetch("/api/v1/drills", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) return;
      const body = await res.json();
      for (const v of [...body.drills, ...body.live]) state.list[v.id] = v;
      renderList();
    } catch (err) { console.warn("drills: list not loaded", err); }
  }

  function renderList() {
    const ul = document.getElementById("drill-list");
    if (!ul) return;
    const all = Object.values(state.list).sort((a, b) =>
      (D.isLive(b.status) - D.isLive(a.status)) || (b.created_at - a.created_at)).slice(0, 12);
    const existing = new Map([...ul.children].map((li) => [li.dataset.id, li]));
    all.forEach((v, i) => {
      let li = existing.get(v.id);
      if (!li) li = listItem(v);
      existing.delete(v.id);
      fillItem(li, v);
      if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
    });
    existing.forEach((li) => li.remove());
    ul.dataset.empty = ul.dataset[lang() === "en" ? "emptyEn" : "emptyZh"] || "";
    ul.classList.toggle("is-empty", all.length === 0);
  }

  function listItem(v) {
    const li = D.el("li", "drill-item fade-in");
    li.dataset.id = v.id;
    const a = D.el("a", "drill-link");
    a.href = `/drills?drill=${encodeURIComponent(v.id)}`;
    a.append(D.el("span", "drill-item-title"), D.el("span", "drill-item-status"),
      D.el("span", "drill-item-meta mono"), D.el("span", "drill-item-share mono"));
    li.append(a);
    return li;
  }

  function fillItem(li, v) {
    const [title, status, meta, share] = li.firstChild.children;
    title.textContent = v.title || v.scope_name || v.id;
    status.textContent = tr(`drills.status.${v.status}`);
    status.dataset.status = v.status;
    const when = new Date((v.created_at + 8 * 3600) * 1000).toISOString();
    meta.textContent = `${when.slice(5, 10)} ${when.slice(11, 16)} · ${tr(`drills.kind.${v.kind}`)}`
      + (v.simulated ? ` · ${tr("drills.simulated")}` : "");
    share.textContent = `${Math.floor((v.progress ? v.progress.share : 0) * 100)} %`;
    li.classList.toggle("is-current", v.id === state.id);
    li.classList.toggle("is-live", D.isLive(v.status));
  }

  // --- the feed ------------------------------------------------------------------------------
  function onSummary(msg) {
    if (!boot() || !msg || !Array.isArray(msg.drills)) return window.dash_clientside.no_update;
    if (gd.drillClock) gd.drillClock.noteServerTime(msg.server_now);
    const ids = msg.drills.map((v) => v.id).sort().join(" ");
    for (const v of msg.drills) {
      state.list[v.id] = v;
      if (v.id === state.id) applyView(v);
    }
    if (ids !== state.liveIds) {
      state.liveIds = ids;
      loadList(); // one started or ended: statuses of the rest changed too
    } else {
      renderList();
    }
    return msg.server_now;
  }

  function onDrill(msg) {
    if (!boot() || !msg || !msg.drill) return window.dash_clientside.no_update;
    applyView(msg.drill);
    if (D.map) D.map.applyDelta(msg);
    if (D.panels) D.panels.applyDelta(msg);
    return msg.seq || msg.drill.clock.server_now;
  }

  function applyLang(value) {
    boot();
    const shell = document.getElementById("drills-shell");
    const fallback = (shell && shell.dataset.defaultLang) || "zh";
    document.documentElement.lang = value === "en" || value === "zh" ? value : fallback;
    if (gd.swapTexts) gd.swapTexts();
    if (state.view) { renderHeading(); tick(); }
    renderList();
    if (D.map) D.map.relabel();
    if (D.panels) D.panels.relabel();
    return lang();
  }

  Object.assign(D, {
    boot: boot,
    applyView: applyView,
    loadList: loadList,
    onSummary: onSummary,
    onDrill: onDrill,
    applyLang: applyLang,
    onActed: function (view) {
      if (!boot() || !view) return window.dash_clientside.no_update;
      applyView(view);
      loadList();
      if (D.panels) D.panels.reload();
      return view.status;
    },
    /* After a lost connection, reload what deltas may have been missed meanwhile. */
    onConnected: function (connected) {
      if (connected && state.everUp && !state.connected && boot()) {
        loadList();
        if (D.map) D.map.reload();
        if (D.panels) D.panels.reload();
      }
      state.connected = !!connected;
      if (connected) state.everUp = true;
      return !connected && state.everUp ? "live-banner" : "live-banner hidden";
    },
  });
  // Dash looks clientside functions up as window.dash_clientside.drills.<name>; the map's
  // and panels' entry points are added there by their own files.
  window.dash_clientside = Object.assign(window.dash_clientside || {}, { drills: D });
})();
