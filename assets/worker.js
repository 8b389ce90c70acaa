/* The grid worker's phone page (/m/): my tasks from the API and the live push, the steps I
 * take, my position, reports from where I stand and the wish wall.
 *
 * This file is the page: what every part shares (window.gridWorker: the page's data, the
 * state, small helpers, the one HTTP call), the banner and connection light, the tabs and the
 * start. The page's template loads it first, then the parts below from assets/worker/ in
 * this order, and last assets/worker/go.js, which starts the page:
 *   queue.js     every write, kept in localStorage and sent once, in order
 *   live.js      the live push (Socket.IO on /tasks)
 *   tasks.js     my tasks: loading them, the cards, their buttons and clocks
 *   steps.js     the step forms: a reason to decline, a note and photos to resolve
 *   position.js  my position (shared with the centre when I choose) and the report from here
 *   wishes.js    the wish wall (party members)
 *
 * Task statuses, steps and their words come from the page (data-vocab, built from the
 * lifecycle table), never spelled here. Whatever a resident or a worker wrote is only ever set
 * as textContent. Does nothing on other pages (Dash loads every script in this folder on the
 * dispatch screens too; app.py keeps it from loading assets/worker/). */
(function () {
  "use strict";
  const root = document.getElementById("w-app");
  if (!root) return;

  const POLL_MS = 30000;

  const me = JSON.parse(root.dataset.me);
  const V = JSON.parse(root.dataset.vocab);
  const state = {
    tasks: {}, events: {}, eventAsked: {}, position: null, loaded: false,
    online: navigator.onLine, live: false, expired: false, skewMs: 0,
    notices: {}, queue: [], sending: false, retryMs: 2000, retryTimer: null,
  };  // queue: read from localStorage by queue.js as it loads

  // --- small helpers ------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const q = (node, sel) => node.querySelector(sel);
  const nowS = () => (Date.now() + state.skewMs) / 1000;

  /** Chinese first, English after it in a smaller line: both as text, never as markup. */
  function say(node, zh, en) {
    node.textContent = zh;
    if (en) {
      const span = document.createElement("span");
      span.className = "en";
      span.textContent = en;
      node.appendChild(span);
    }
    return node;
  }

  function showError(node, zh, en) {
    node.hidden = false;
    say(node, zh, en);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function minutes(s) {
    const m = Math.max(0, Math.floor(s / 60));
    if (m < 60) return [m + " 分钟", m + " min"];
    const h = Math.floor(m / 60);
    if (h < 48) return [h + " 小时 " + (m % 60) + " 分", h + " h " + (m % 60) + " min"];
    return [Math.floor(h / 24) + " 天", Math.floor(h / 24) + " days"];
  }

  function clock(s) {
    const t = Math.max(0, Math.floor(s));
    const mm = String(Math.floor(t / 60)).padStart(2, "0");
    return mm + ":" + String(t % 60).padStart(2, "0");
  }

  function distanceM(a, b) {
    const r = 6371008.8, rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
    const h = Math.sin(dLat / 2) ** 2 +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  function metres(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(m < 10000 ? 1 : 0) + " km";
  }

  const statusWords = (s) => V.statuses[s] || [s, ""];

  // --- HTTP ------------------------------------------------------------------------------------
  class NetworkError extends Error {}

  /** One request with the session cookie; a failure to reach the server is a NetworkError,
   * any answer (even 4xx/5xx) is returned as {status, data}. */
  async function call(method, url, body, headers) {
    const init = { method, credentials: "same-origin", headers: Object.assign(
      { Accept: "application/json" }, headers || {}) };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      reachable(false);
      throw new NetworkError(String(err));
    }
    reachable(true);
    const date = Date.parse(resp.headers.get("Date") || "");
    if (!Number.isNaN(date)) state.skewMs = date - Date.now();
    let data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    if (resp.status === 401) sessionEnded();
    return { status: resp.status, data };
  }

  function reachable(ok) {
    if (state.online !== ok) {
      state.online = ok;
      showConnection();
    }
  }

  function sessionEnded() {
    state.expired = true;
    showBanner();
  }

  // --- banner and connection --------------------------------------------------------------
  function showBanner() {
    const banner = $("w-banner");
    const n = state.queue.length;
    banner.classList.toggle("is-offline", !state.online || state.expired);
    if (state.expired) {
      banner.hidden = false;
      say(banner, "登录已过期 · " + n + " 项待发送，请重新登录", "Signed out: sign in again to send");
      const a = document.createElement("a");
      a.href = "/login?next=/m/";
      a.textContent = "重新登录 Sign in";
      a.className = "w-banner-link";
      banner.appendChild(a);
    } else if (!state.online) {
      banner.hidden = false;
      say(banner, "离线 · " + n + " 项待发送", "Offline · " + n + " waiting to send");
    } else if (n) {
      banner.hidden = false;
      say(banner, n + " 项待发送 · 正在重试", n + " waiting to send · retrying");
    } else {
      banner.hidden = true;
    }
  }

  function showConnection() {
    const net = $("w-net");
    net.classList.toggle("is-on", state.online);
    net.classList.toggle("is-off", !state.online);
    if (!state.online) say(net, "离线", "Offline");
    else if (state.live) say(net, "实时", "Live");
    else say(net, "在线", "Online");
    showBanner();
  }

  // --- what the parts share -------------------------------------------------------------------
  const gw = (window.gridWorker = window.gridWorker || {});
  Object.assign(gw, {
    root, me, V, OPEN: new Set(V.open), state,
    $, q, nowS, say, showError, newId, minutes, clock, distanceM, metres, statusWords,
    NetworkError, call, showBanner, showConnection,
  });

  // --- tabs -------------------------------------------------------------------------------------
  function tabs() {
    for (const b of document.querySelectorAll(".w-tabbtn")) {
      b.addEventListener("click", () => show(b.dataset.tab));
    }
  }

  function show(name) {
    for (const b of document.querySelectorAll(".w-tabbtn")) {
      if (b.dataset.tab === name) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    for (const s of document.querySelectorAll(".w-tab")) s.hidden = s.id !== "tab-" + name;
    if (name === "report" && !state.position) gw.position.once();
    if (name === "wishes") gw.wishes.load();
    window.scrollTo(0, 0);
  }

  // --- start --------------------------------------------------------------------------------
  function start() {
    const { queue, live, tasks, position } = gw;
    window.addEventListener("online", () => {
      state.online = true;
      state.retryMs = 2000;
      showConnection();
      queue.flush();
      tasks.load();
      live.open();
    });
    window.addEventListener("offline", () => { state.online = false; showConnection(); });
    tabs();
    position.reportForm();
    position.shareButton(root.dataset.share === "1");
    showConnection();
    tasks.render();
    tasks.load().then(queue.flush);
    if (gw.drills) gw.drills.start();
    live.open();
    setInterval(() => { if (!document.hidden) tasks.load(); }, POLL_MS);
    setInterval(() => { if (!document.hidden) tasks.ticks(); }, 1000);
    setInterval(queue.flush, 30000);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) { tasks.load(); queue.flush(); }
    });
  }

  gw.start = start;  // run by assets/worker/go.js, after the page's parts have loaded
})();
