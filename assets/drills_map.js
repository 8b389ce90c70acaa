/* The drill screen's map: micro-grids coloured by share swept, muster points with their
 * fences, responders as markers coloured by step.
 *
 * Grid polygons arrive once from the cached layer URL; each is registered here by its code
 * (onEachGrid) and recoloured with layer.setStyle() as counts arrive, never by re-sending
 * geometry or changing the layer's hideout. Responders' markers live in a layer group of
 * their own and are moved with setLatLng(). Names are only ever set as text. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const D = (gd.drills = gd.drills || {});
  const k = () => Math.max(1, window.innerWidth / 1920);
  // A responder's colour by how far along the steps they are (notified … arrived): the steps
  // themselves come from the page (the Python enum), in order.
  const STEP_COLOURS = ["#64748b", "#38bdf8", "#f59e0b", "#22c55e"];
  const steps = () => D.state.vocab.responder || [];
  const stepColour = (status) => STEP_COLOURS[Math.max(0, steps().indexOf(status))];
  const PENDING = "#334155", HALF = [245, 158, 11], DONE = [34, 197, 94];
  const RELOAD_MS = 30000;
  const S = {
    map: null, grids: {}, prefix: "", tier: "", reached: {}, totals: {}, replay: null,
    status: {}, markers: {}, group: null, fitted: false, timer: null, names: {},
  };

  // --- the map itself ------------------------------------------------------------------------
  function attach(map, bounds) {
    if (S.map === map) return;
    S.map = map;
    if (!map.getPane("responders")) map.createPane("responders").style.zIndex = 460;
    S.group = L.layerGroup().addTo(map);
    const fit = () => {
      try {
        map.invalidateSize({ pan: false });
        if (bounds) map.fitBounds(bounds, { padding: [24, 24], animate: false });
      } catch (err) { console.warn("drill map: fit deferred", err); }
    };
    map.whenReady(() => {
      setTimeout(fit, 0);
      new ResizeObserver(() => setTimeout(fit, 0)).observe(map.getContainer());
    });
    Object.values(S.markers).forEach((m) => m.addTo(S.group));
  }

  function scaled(style) { return Object.assign({}, style, { weight: style.weight * k() }); }

  /* Share swept → colour: slate when untouched, amber to green as it fills, green when done. */
  function sweptColour(share) {
    if (!(share > 0)) return PENDING;
    const f = Math.min(1, share), mix = (i) => Math.round(HALF[i] + (DONE[i] - HALF[i]) * f);
    return share >= 1 ? "#22c55e" : `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
  }

  function reachedOf(code) {
    if (S.replay && S.replay.by_micro) return S.replay.by_micro[code] || 0;
    return S.reached[code] || 0;
  }

  function gridStyleFor(code) {
    if (!code.startsWith(S.prefix)) {
      return scaled({ color: "#1b3553", weight: 0.4, opacity: 0.5, fill: false });
    }
    if (S.tier === "total") {
      return scaled({ color: "#4aa3df", weight: 1.4, opacity: 0.85, fillColor: "#123a5c",
        fillOpacity: 0.18 });
    }
    const total = S.totals[code] || 0, share = total ? reachedOf(code) / total : 0;
    return scaled({ color: "#0b1a2e", weight: 0.5, opacity: 0.9, fillColor: sweptColour(share),
      fillOpacity: share > 0 ? 0.72 : 0.45 });
  }

  function restyle(code) {
    const layer = S.grids[code];
    if (layer) layer.setStyle(gridStyleFor(code));
  }
  const restyleAll = () => Object.keys(S.grids).forEach(restyle);

  function gridTip(code) {
    const box = D.el("div", "grid-tip");
    box.append(D.el("div", "grid-tip-name", S.names[code] || ""), D.el("div", "grid-tip-code", code));
    if (S.tier === "micro") {
      const total = S.totals[code] || 0, got = reachedOf(code);
      const pct = total ? ` · ${Math.round((100 * got) / total)} %` : "";
      box.append(D.el("div", "grid-tip-tier", `${got} / ${total}${pct}`));
    }
    return box;
  }

  // --- responders -----------------------------------------------------------------------------
  function markerStyle(status, stale) {
    return { radius: 5 * k(), color: "#07111f", weight: 1 * k(), fillColor:
      stepColour(status), fillOpacity: stale ? 0.35 : 0.95,
      opacity: stale ? 0.4 : 1, pane: "responders" };
  }

  function place(worker, lon, lat, stale) {
    if (lon == null || lat == null) return;
    const status = S.status[worker] || steps()[0];
    let m = S.markers[worker];
    if (!m) {
      m = S.markers[worker] = L.circleMarker([lat, lon], markerStyle(status, stale));
      m.gdWorker = worker;
      if (S.group) m.addTo(S.group);
    } else {
      m.setLatLng([lat, lon]);
      m.setStyle(markerStyle(status, stale));
    }
  }

  /* A step only moves a responder forward (the feed may repeat one after a reconnect). */
  function step(worker, status) {
    if (steps().indexOf(status) < steps().indexOf(S.status[worker])) return;
    S.status[worker] = status;
    const m = S.markers[worker];
    if (m) m.setStyle(markerStyle(status, false));
  }

  function clearMarkers() {
    if (S.group) S.group.clearLayers();
    S.markers = {};
  }

  // --- loading and deltas ---------------------------------------------------------------------
  async function loadProgress() {
    const id = D.state.id;
    if (!id || !D.isSweep()) return;
    try {
      const res = await fetch(`/api/v1/drills/${encodeURIComponent(id)}/progress`,
        { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) return;
      const body = await res.json();
      for (const [code, [got, total]] of Object.entries(body.grids || {})) {
        S.totals[code] = total;
        S.reached[code] = Math.max(S.reached[code] || 0, got);
      }
      restyleAll();
    } catch (err) { console.warn("drill map: progress not loaded", err); }
  }

  function renderLegend() {
    const box = document.getElementById("drill-legend");
    if (!box || !D.state.kind) return;
    const rows = D.isSweep()
      ? [[PENDING, "drills.legend.pending"], [sweptColour(0.5), "drills.legend.half"],
        ["#22c55e", "drills.legend.done"]]
      : [...steps().map((s) => [stepColour(s), `drills.steps.${s}`]),
        ["#ffb703", "drills.legend.point"]];
    box.replaceChildren(...rows.map(([colour, key]) => {
      const row = D.el("div", "legend-row");
      const dot = D.el("span", "legend-dot");
      dot.style.background = colour;
      row.append(dot, D.el("span", "legend-text", D.tr(key)));
      return row;
    }));
  }

  D.map = {
    state: S,
    boot: function () {
      renderLegend();
      loadProgress();
      clearInterval(S.timer);
      S.timer = setInterval(loadProgress, RELOAD_MS);
    },
    reload: loadProgress,
    relabel: renderLegend,
    /* The board (GET …/responders): each responder's step and last position. */
    setBoard: function (rows) {
      if (S.replay) return; // a replayed second stays on the map until another is chosen
      for (const r of rows) {
        step(r.worker, r.status);
        if (r.position) place(r.worker, r.position.lon, r.position.lat, r.position.stale);
      }
    },
    applyDelta: function (msg) {
      if (S.replay) return;
      for (const [worker, status, , , lon, lat] of msg.steps || []) {
        step(worker, status);
        if (lon != null && lat != null) place(worker, lon, lat, false);  // where it arrived
      }
      for (const [worker, lon, lat] of msg.positions || []) place(worker, lon, lat, false);
      for (const [code, got] of Object.entries(msg.swept || {})) {
        S.reached[code] = Math.max(S.reached[code] || 0, got);
        restyle(code);
      }
    },
    /* The drill as it stood at a replayed second (GET …/replay?t=). */
    showReplay: function (body) {
      S.replay = body;
      if (body.kind === D.state.vocab.sweep) { restyleAll(); return; }
      clearMarkers();
      S.status = {};
      for (const [worker, r] of Object.entries(body.responders || {})) {
        S.status[worker] = r.status;
        place(worker, r.lon, r.lat, false);
      }
    },
    // dash-leaflet function props
    streetStyle: function () {
      return scaled({ color: "#7fd1ff", weight: 1.6, opacity: 0.55, fill: false });
    },
    onEachStreet: function (feature, layer, context) {
      attach(context.map, context.hideout.bounds);
    },
    gridStyle: function (feature, context) {
      S.prefix = context.hideout.prefix;
      S.tier = context.hideout.tier;
      return gridStyleFor(String(feature.properties.code));
    },
    onEachGrid: function (feature, layer, context) {
      attach(context.map, context.hideout.bounds);
      const code = String(feature.properties.code);
      S.names[code] = String(feature.properties.name || "");
      if (!code.startsWith(context.hideout.prefix)) return;
      S.grids[code] = layer;
      layer.bindTooltip(() => gridTip(code), { sticky: true, direction: "top",
        offset: [0, -12], className: "grid-tooltip" });
    },
    pointToLayer: function (feature, latlng) {
      const p = feature.properties;
      return L.featureGroup([
        L.circle(latlng, { radius: p.radius_m, color: "#ffb703", weight: 1.5 * k(),
          opacity: 0.9, dashArray: `${6 * k()} ${4 * k()}`, fillColor: "#ffb703",
          fillOpacity: 0.1 }),
        L.circleMarker(latlng, { radius: 6 * k(), color: "#07111f", weight: 1.5 * k(),
          fillColor: "#ffb703", fillOpacity: 1 }),
      ]);
    },
    onEachPoint: function (feature, layer, context) {
      attach(context.map, context.hideout.bounds);
      const label = D.el("span", "point-label", feature.properties.name);
      layer.bindTooltip(label, { permanent: !!context.hideout.labels, direction: "right",
        offset: [10 * k(), 0], className: "grid-tooltip point-tooltip" });
    },
  };
})();
