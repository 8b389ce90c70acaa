/* Grid map behaviour: tier styling, zoom-dependent tiers, hover and click, load metrics.
 * Everything lives under window.gridDispatch; Dash reaches it through clientside callbacks
 * and dash-leaflet's {variable: "gridDispatch.map.*"} function props.
 * Grid names come from data files and are only ever inserted as text, never as HTML. */
(function () {
  "use strict";
  const gd = (window.gridDispatch = window.gridDispatch || {});
  const TIERS = ["total", "general", "micro"];
  const LABELS = {
    zh: { total: "总网格", general: "一般网格", micro: "微网格" },
    en: { total: "Total grid", general: "General grid", micro: "Micro-grid" },
  };
  // Auto mode: from these zoom levels the finer tier is drawn and becomes the clickable one.
  const ZOOM = { general: 12.5, micro: 13.75 };
  const BASE = {
    streets: { color: "#7fd1ff", weight: 3, opacity: 0.9, fill: false },
    total: { color: "#4aa3df", weight: 1.8, opacity: 0.85, fillColor: "#123a5c", fillOpacity: 0 },
    general: { color: "#3d7fb3", weight: 1.1, opacity: 0.8, fillColor: "#123a5c", fillOpacity: 0 },
    micro: { color: "#2f5f88", weight: 0.6, opacity: 0.75, fillColor: "#123a5c", fillOpacity: 0 },
  };
  const ACTIVE_FILL = 0.28;
  const CONNECTION = { zh: ["在线", "连接中断"], en: ["Online", "Disconnected"] };
  const HOVER = { color: "#ffd166", weight: 2.5, opacity: 1 };
  const SELECTED = { color: "#ffb703", weight: 3.5, opacity: 1, fillColor: "#ffb703", fillOpacity: 0.35 };

  const state = (gd.state = {
    map: null,
    mode: "auto",
    layers: { total: {}, general: {}, micro: {}, streets: {} },
    counts: { total: 0, general: 0, micro: 0, streets: 0 },
    expected: {},
    selected: null,
    active: null,
  });
  const metrics = (gd.metrics = { tiersReady: {}, mapDrawnMs: null });

  function lang() {
    return document.documentElement.lang === "en" ? "en" : "zh";
  }

  function tooltipContent(feature, tier) {
    const el = document.createElement("div");
    el.className = "grid-tip";
    const kind = document.createElement("div");
    kind.className = "grid-tip-tier";
    kind.textContent = LABELS[lang()][tier] || "";
    const name = document.createElement("div");
    name.className = "grid-tip-name";
    name.textContent = String(feature.properties.name || "");
    const code = document.createElement("div");
    code.className = "grid-tip-code";
    code.textContent = String(feature.properties.code || "");
    el.append(kind, name, code);
    return el;
  }

  function visibleTiers(zoom) {
    if (state.mode !== "auto") {
      const i = TIERS.indexOf(state.mode);
      return { shown: TIERS.slice(0, i + 1), active: state.mode };
    }
    if (zoom >= ZOOM.micro) return { shown: TIERS, active: "micro" };
    if (zoom >= ZOOM.general) return { shown: ["total", "general"], active: "general" };
    return { shown: ["total"], active: "total" };
  }

  function applyTiers() {
    const map = state.map;
    if (!map) return;
    const { shown, active } = visibleTiers(map.getZoom());
    for (const tier of TIERS) {
      const pane = map.getPane(tier);
      if (!pane) continue;
      pane.style.display = shown.includes(tier) ? "" : "none";
      pane.style.pointerEvents = tier === active ? "auto" : "none";
    }
    const streets = map.getPane("streets");
    if (streets) streets.style.pointerEvents = "none";
    if (state.active !== active) {
      state.active = active;
      for (const tier of TIERS) {
        for (const layer of Object.values(state.layers[tier])) restyle(layer);
      }
    }
    document.body.dataset.activeTier = active;
  }

  // Line widths are in CSS pixels: thicken them on walls wider than 1920 so they read the same.
  function scaled(style) {
    const k = Math.max(1, window.innerWidth / 1920);
    return Object.assign({}, style, { weight: style.weight * k });
  }

  function styleFor(tier, code) {
    const base = Object.assign({}, BASE[tier] || BASE.micro);
    if (tier === state.active) base.fillOpacity = ACTIVE_FILL;
    const live = code && gd.live && gd.live.gridStyle(tier, code);
    if (live && (tier === state.active || tier === "micro")) Object.assign(base, live);
    return scaled(base);
  }

  function restyle(layer) {
    const tier = layer.gdTier;
    layer.setStyle(layer === state.selected ? scaled(SELECTED) : styleFor(tier, layer.gdCode));
  }

  function select(layer) {
    const previous = state.selected;
    state.selected = layer;
    if (previous) restyle(previous);
    if (layer) {
      restyle(layer);
      layer.bringToFront();
    }
  }

  function noteLoaded(tier) {
    state.counts[tier] += 1;
    if (state.counts[tier] !== state.expected[tier]) return;
    metrics.tiersReady[tier] = performance.now();
    if (TIERS.every((t) => metrics.tiersReady[t])) {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        metrics.mapDrawnMs = performance.now();
        document.body.dataset.mapReady = "1";
      }));
    }
  }

  function attachMap(map) {
    if (state.map === map) return;
    state.map = map;
    map.on("zoomend", applyTiers);
    applyTiers();
    // Fit the district whenever the map's box changes size (first layout, window or wall resize).
    const fit = () => {
      try {
        map.invalidateSize({ pan: false });
        if (gd.bounds) map.fitBounds(gd.bounds, { padding: [16, 16], animate: false });
      } catch (err) {
        console.warn("grid map: fit deferred", err);
      }
    };
    map.whenReady(() => {
      setTimeout(fit, 0);
      new ResizeObserver(() => setTimeout(fit, 0)).observe(map.getContainer());
    });
  }

  gd.map = {
    style: function (feature, context) {
      return styleFor(context.hideout.tier, String(feature.properties.code));
    },
    restyle: restyle,
    onEachFeature: function (feature, layer, context) {
      const tier = context.hideout.tier;
      if (context.hideout.bounds) gd.bounds = context.hideout.bounds;
      state.expected[tier] = context.hideout.expected;
      attachMap(context.map);
      layer.gdTier = tier;
      layer.gdCode = String(feature.properties.code);
      state.layers[tier][layer.gdCode] = layer;
      noteLoaded(tier);
      if (tier === "streets") return;
      layer.bindTooltip(() => tooltipContent(feature, tier), {
        sticky: true, direction: "top", offset: [0, -12], className: "grid-tooltip",
      });
      layer.on("mouseover", () => {
        if (layer === state.selected) return;
        layer.setStyle(scaled(HOVER));
        layer.bringToFront();
        if (state.selected && state.selected.gdTier === tier) state.selected.bringToFront();
      });
      layer.on("mouseout", () => restyle(layer));
      layer.on("click", () => {
        select(layer);
        window.dash_clientside.set_props("selected-grid", {
          data: { code: layer.gdCode, tier: tier, at: Date.now() },
        });
      });
    },
    setMode: function (...clicks) {
      const trigger = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
      const match = trigger.match(/^mode-(\w+)\.n_clicks$/);
      state.mode = match ? match[1] : state.mode;
      applyTiers();
      document.querySelectorAll(".mode-button").forEach((b) => {
        b.classList.toggle("active", b.id === `mode-${state.mode}`);
      });
      return state.mode;
    },
    clearSelection: function () {
      select(null);
      return null;
    },
    layer: function (tier, code) {
      return state.layers[tier][code] || null;
    },
    ready: function () {
      return Object.assign({}, state.counts, { drawnMs: metrics.mapDrawnMs });
    },
  };

  gd.ui = {
    toggleLang: function (_n, current) {
      return (current || document.documentElement.lang) === "en" ? "zh" : "en";
    },
    applyLang: function (value) {
      // No choice stored on this screen yet: the site's language (GRID_DISPATCH_LANGUAGE).
      const shell = document.querySelector(".app-shell");
      const fallback = (shell && shell.dataset.defaultLang) || "zh";
      const l = value === "en" ? "en" : (value === "zh" ? "zh" : fallback);
      document.documentElement.lang = l;
      if (shell) document.title = shell.dataset[l === "en" ? "centreEn" : "centreZh"] || document.title;
      showConnection();
      if (gd.live && gd.live.render) gd.live.render(); // queue rows in the new language
      return l === "en" ? "中文" : "EN";
    },
    clock: function () {
      // Beijing time on every screen, whatever the browser's zone (China has one, no DST).
      const d = new Date(Date.now() + 8 * 3600 * 1000);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
        `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
    },
  };

  // Dash clientside callbacks look functions up as window.dash_clientside[namespace][name].
  window.dash_clientside = Object.assign(window.dash_clientside || {}, {
    grid_map: gd.map,
    grid_ui: gd.ui,
  });

  // Connection state: the header shows whether this screen still reaches its server and Redis.
  async function probe() {
    const conn = document.getElementById("conn");
    if (!conn) return;
    let ok = false;
    try {
      const res = await fetch("/healthz", { cache: "no-store" });
      ok = res.ok;
    } catch (e) {
      ok = false;
    }
    conn.classList.toggle("conn-ok", ok);
    conn.classList.toggle("conn-bad", !ok);
    conn.dataset.ok = ok ? "1" : "0";
    showConnection();
  }

  function showConnection() {
    const conn = document.getElementById("conn");
    const text = conn && conn.querySelector(".conn-text");
    if (text) text.textContent = CONNECTION[lang()][conn.dataset.ok === "0" ? 1 : 0];
  }
  setInterval(probe, 5000);
  window.addEventListener("load", probe);
})();
