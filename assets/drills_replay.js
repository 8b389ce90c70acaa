/* Replay of a finished drill: the slider picks a drill minute (to the second), the page asks
 * GET …/replay?t=SECONDS and shows exactly that answer: the counts in #drill-replay-state and
 * the map (micro-grid colours, or responders where they were). Play advances the slider at
 * ×1, ×10 or ×60 drill seconds per second; only the newest asked second is fetched, one
 * request at a time. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const D = (gd.drills = gd.drills || {});
  const R = { timer: null, speed: 0, value: null, max: null, wanted: null, shown: null,
    busy: false, body: null };

  function maxMinutes(view) {
    return Math.max(1, Math.ceil((view.clock.elapsed_s || 0) / 60));
  }

  /* A drill that just ended while watched gets its replay bar. */
  function open(view) {
    const bar = document.getElementById("drill-replay");
    if (!bar) return;
    bar.classList.remove("hidden");
    R.max = maxMinutes(view);
    const step = Math.max(1, Math.floor(R.max / 8)), marks = {};
    for (let m = 0; m <= R.max; m += step) marks[m] = `${m}′`;
    window.dash_clientside.set_props("drill-replay-slider",
      { max: R.max, marks: marks, value: R.max });
  }

  async function fetchNewest() {
    if (R.busy) return;
    R.busy = true;
    try {
      while (R.wanted !== null && R.wanted !== R.shown) {
        const t = R.wanted;
        const res = await fetch(`/api/v1/drills/${encodeURIComponent(D.state.id)}/replay?t=${t}`,
          { credentials: "same-origin", cache: "no-store" });
        if (!res.ok) break;
        show(await res.json());
        R.shown = t;
      }
    } catch (err) {
      console.warn("drills: replay not loaded", err);
    } finally {
      R.busy = false;
    }
  }

  function show(body) {
    R.body = body;
    const el = document.getElementById("drill-replay-state");
    if (!el) return;
    const sweep = body.kind === D.state.vocab.sweep;
    const done = sweep ? body.reached : body.arrived, total = body.total;
    const share = total ? ((100 * done) / total).toFixed(1) : "0.0";
    const parts = [`${D.tr("drills.replay.at")} ${gd.drillClock.format(body.t)}`,
      D.tr(`drills.status.${body.status}`), `${done} / ${total} · ${share} %`];
    if (sweep && body.help) parts.push(`${D.tr("drills.help")} ${body.help}`);
    el.textContent = parts.join(" · ");
    Object.assign(el.dataset, { t: String(body.t), done: String(done), total: String(total),
      status: String(body.status) });
    if (D.map) D.map.showReplay(body);
  }

  function stop() {
    clearInterval(R.timer);
    R.timer = null;
    R.speed = 0;
    document.querySelectorAll(".replay-button").forEach((b) => b.classList.remove("active"));
  }

  function advance() {
    const max = R.max || maxMinutes(D.state.view);
    const next = Math.min(max, (R.value || 0) + R.speed / 60);
    window.dash_clientside.set_props("drill-replay-slider", { value: next });
    if (next >= max) stop();
  }

  D.replay = {
    state: R,
    open: open,
    relabel: function () { if (R.body) show(R.body); },
  };

  /* Slider moved (by hand, by play, or by a test): show that drill second. */
  D.replayTo = function (minutes) {
    if (!D.boot() || typeof minutes !== "number") return window.dash_clientside.no_update;
    R.value = minutes;
    R.wanted = Math.round(minutes * 60);
    if (D.P) { D.P.replay.value = R.wanted; D.P.chartDirty = true; }
    fetchNewest();
    return R.wanted;
  };

  /* ▶ ×1, ×10, ×60 or stop. */
  D.play = function () {
    const trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
    const m = trig.match(/^drill-replay-play-(\d+)\.n_clicks$/);
    stop();
    if (!m || !D.boot()) return 0;
    if (R.max == null && D.state.view) R.max = maxMinutes(D.state.view);
    if ((R.value || 0) >= R.max) window.dash_clientside.set_props("drill-replay-slider", { value: 0 });
    R.value = (R.value || 0) >= R.max ? 0 : R.value || 0;
    R.speed = Number(m[1]);
    const button = document.getElementById(`drill-replay-play-${m[1]}`);
    if (button) button.classList.add("active");
    R.timer = setInterval(advance, 1000);
    return R.speed;
  };
})();
