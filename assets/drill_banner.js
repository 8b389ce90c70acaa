/* The drill clock every screen shares, the live-drill banner and watermark on the operator's
 * and leader's screens, and the swap of bilingual texts when the screen's language changes.
 *
 * The countdown is never counted from the browser's own clock: each message carries the
 * server's time, the page keeps its offset to it, and drill time is computed from the drill's
 * clock fields exactly as the server does (started, paused, ended, speed), so every screen
 * shows the same figure within a second. Texts are only ever set with textContent. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const lang = () => (document.documentElement.lang === "en" ? "en" : "zh");

  // --- the shared drill clock ---------------------------------------------------------------
  const OFFSETS_KEPT = 10;
  const offsets = [];

  /* A message's server time against ours. Delivery only ever makes it look older, so the
   * largest recent offset is the best estimate. */
  function noteServerTime(serverNow) {
    if (typeof serverNow !== "number") return;
    offsets.push(serverNow - Date.now() / 1000);
    if (offsets.length > OFFSETS_KEPT) offsets.shift();
  }
  /* Better still: ask the server's time a few times and keep the quickest answer's midpoint
   * (a message's time also counts how long the page took to handle it, which can be long
   * while a screen loads). Done on load and each minute; messages are the fallback. */
  const sync = { offset: null, rtt: Infinity };
  async function syncClock(tries) {
    let best = { offset: null, rtt: Infinity };
    for (let i = 0; i < tries; i++) {
      const t0 = Date.now() / 1000;
      let body;
      try {
        const res = await fetch("/api/v1/drills/clock", { credentials: "same-origin",
          cache: "no-store" });
        if (!res.ok) return;  // not signed in, or no drill.read: no countdown to keep
        body = await res.json();
      } catch (err) {
        return;
      }
      const t1 = Date.now() / 1000;
      if (t1 - t0 < best.rtt) best = { offset: body.server_now - (t0 + t1) / 2, rtt: t1 - t0 };
    }
    if (best.offset !== null) Object.assign(sync, best);
  }
  syncClock(5);  // the Dash screens load this file; the phone and form pages do not
  setInterval(() => syncClock(5), 60000);
  const serverNow = () => Date.now() / 1000 + (sync.offset !== null ? sync.offset
    : offsets.length ? Math.max(...offsets) : 0);

  /* Drill seconds now: the same formula as dispatch.drills.clock.DrillClock.elapsed. */
  function elapsed(clock) {
    if (!clock || clock.started_at == null) return 0;
    let until = serverNow();
    if (clock.ended_at != null) until = Math.min(until, clock.ended_at);
    if (clock.paused_at != null) until = Math.min(until, clock.paused_at);
    return Math.max(0, (until - clock.started_at - (clock.paused_s || 0)) * (clock.speed || 1));
  }

  /* m:ss (h:mm:ss past an hour) of a whole number of seconds, unsigned. */
  function format(seconds) {
    const s = Math.abs(Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
  }

  /* What a countdown shows: time left to the target, or "+overtime" once it has passed. */
  function countdown(clock) {
    const left = Math.round((clock ? clock.target_s : 0) - elapsed(clock));
    return { left: left, late: left < 0, text: (left < 0 ? "+" : "") + format(left) };
  }

  gd.drillClock = { noteServerTime, serverNow, elapsed, format, countdown };

  // --- bilingual texts ------------------------------------------------------------------------
  /* Elements that carry data-zh and data-en show the screen's language; attributes named
   * data-<attr>-zh / -en (placeholders, titles) follow too. */
  function swapTexts() {
    const l = lang();
    document.querySelectorAll("[data-zh][data-en]").forEach((el) => {
      const value = el.dataset[l];
      if (el.textContent !== value) el.textContent = value;
    });
    for (const attr of ["placeholder", "title"]) {
      document.querySelectorAll(`[data-${attr}-zh]`).forEach((el) => {
        el.setAttribute(attr, el.dataset[`${attr}${l === "en" ? "En" : "Zh"}`] || "");
      });
    }
    if (gd.drillBanner) gd.drillBanner.render();
  }
  new MutationObserver(swapTexts).observe(document.documentElement,
    { attributes: true, attributeFilter: ["lang"] });
  gd.swapTexts = swapTexts;

  // --- the banner -----------------------------------------------------------------------------
  const state = { drills: [] };

  function render() {
    const el = document.getElementById("drill-banner");
    const live = state.drills;
    document.body.classList.toggle("has-live-drill", live.length > 0);
    document.querySelectorAll(".map-wrap > .drill-watermark").forEach((w) =>
      w.classList.toggle("hidden", live.length === 0));
    if (!el) return;
    el.classList.toggle("hidden", live.length === 0);
    if (!live.length) return;
    const d = live[0];
    el.setAttribute("href", `/drills?drill=${encodeURIComponent(d.id)}`);
    el.classList.toggle("is-paused", d.clock && d.clock.paused_at != null);
    const title = d.title || d.scope_name || d.id;
    document.getElementById("drill-banner-title").textContent = title;
    el.title = title;
    tick();
    const share = d.progress ? d.progress.share * 100 : 0;
    document.getElementById("drill-banner-share").textContent = `${Math.floor(share)} %`;
    const more = document.getElementById("drill-banner-more");
    more.textContent = live.length > 1 ? `+${live.length - 1}` : "";
  }

  function tick() {
    const d = state.drills[0];
    const clock = document.getElementById("drill-banner-clock");
    if (!d || !clock) return;
    const c = countdown(d.clock);
    clock.textContent = c.text;
    clock.classList.toggle("late", c.late);
  }
  setInterval(tick, 500);

  gd.drillBanner = {
    state: state,
    render: render,
    onDrills: function (msg) {
      if (!msg || !Array.isArray(msg.drills)) return window.dash_clientside.no_update;
      noteServerTime(msg.server_now);
      const paused = (d) => (d.clock && d.clock.paused_at != null ? 1 : 0);
      state.drills = msg.drills.slice().sort((a, b) =>
        paused(a) - paused(b) || a.created_at - b.created_at);
      render();
      return state.drills.length;
    },
  };
  window.dash_clientside = Object.assign(window.dash_clientside || {},
    { drill_banner: gd.drillBanner });
})();
