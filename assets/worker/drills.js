/* The worker page's drills (loaded by assets/worker.js): the live drills I take part in, as a
 * card on top of my tasks. Muster: the countdown, my point and its distance, and my steps
 * (received, on my way, arrived: arrival sends my position first, and the centre checks it
 * against the point's fence). Sweep: my micro-grid's buildings, each reported safe in one tap
 * or household by household. The server's clock drives the countdown (state.skewMs); every
 * text from the server is set as textContent. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { state, $, say, call, distanceM, metres } = gw;
  const STEPS = [["acknowledged", "收到", "Received"], ["en_route", "出发", "On my way"],
    ["arrived", "已到达", "Arrived"]];
  const FOUND = [["safe", "安全", "Safe"], ["needs_help", "需帮助", "Needs help"],
    ["not_home", "不在家", "Not home"], ["vacant", "空置", "Vacant"]];
  const WORDS = { notified: ["已通知", "Notified"], acknowledged: ["已收到", "Received"],
    en_route: ["在途", "On the way"], arrived: ["已到达", "Arrived"] };
  let drills = [], timer = null;
  const open = {};  // building id → expanded

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function both(node, zh, en) {
    node.textContent = zh;
    node.appendChild(el("span", "en", en));
    return node;
  }

  async function load() {
    let resp;
    try {
      resp = await call("GET", "/api/v1/drills/mine");
    } catch (err) {
      return;  // offline: the card keeps what it showed
    }
    if (resp.status !== 200 || !resp.data) return;
    drills = resp.data.drills || [];
    render();
    for (const d of drills) if (d.kind === "sweep") loadGrid(d);
  }

  function render() {
    const box = $("w-drill");
    if (!box) return;
    box.hidden = drills.length === 0;
    box.replaceChildren(...drills.map(card));
    tick();
  }

  function card(d) {
    const node = el("article", "w-card w-drill-card");
    node.dataset.drill = d.id;
    const head = el("div", "w-card-head");
    head.append(el("span", "w-drill-tag", "演练 DRILL"), el("span", "w-cat", d.title));
    const clock = el("p", "w-drill-clock");
    clock.dataset.clock = JSON.stringify(d.clock);
    node.append(head, clock);
    if (d.status === "paused") node.append(both(el("p", "w-hint"), "演练已暂停", "Paused"));
    if (d.kind === "muster") muster(node, d);
    else node.append(el("div", "w-drill-grid"));
    const error = el("p", "w-error w-drill-error");
    error.setAttribute("role", "alert");
    error.hidden = true;  // shown with a refusal's words only
    node.append(error);
    return node;
  }

  function muster(node, d) {
    const me = d.me || {}, point = me.point || {};
    const words = WORDS[me.status] || [me.status, me.status];
    node.append(both(el("p", "w-status"), "我的状态：" + words[0], words[1]));
    const where = el("p", "w-where");
    where.textContent = "集结点：" + (point.name || "");
    if (state.position && typeof point.lat === "number") {
      where.textContent += " · 距我 " + metres(distanceM(state.position, point));
    }
    node.append(where);
    const row = el("div", "w-actions");
    const at = STEPS.findIndex((s) => s[0] === me.status);
    for (const [step, zh, en] of STEPS) {
      const b = both(el("button", "w-primary"), zh, en);
      b.type = "button";
      b.disabled = d.status !== "running" || STEPS.findIndex((s) => s[0] === step) <= at;
      b.addEventListener("click", () => respond(d, step, node, b));
      row.append(b);
    }
    node.append(row);
  }

  async function respond(d, step, node, button) {
    button.disabled = true;
    const error = node.querySelector(".w-drill-error");
    error.textContent = "";
    error.hidden = true;
    try {
      if (step === "arrived" && state.position) {
        const p = state.position;
        await call("POST", "/api/v1/workers/me/position", { lon: p.lon, lat: p.lat,
          accuracy_m: Math.min(Math.round(p.accuracy || 0), 5000) });
      }
      const resp = await call("POST", "/api/v1/drills/" + encodeURIComponent(d.id) + "/respond",
        { step });
      if (resp.status !== 200) {
        error.hidden = false;
        error.textContent = (resp.data && resp.data.message) || "未能提交";
        button.disabled = false;
        return;
      }
    } catch (err) {
      error.hidden = false;
      say(error, "离线：联网后再点", "Offline: tap again once online");
      button.disabled = false;
      return;
    }
    load();
  }

  async function loadGrid(d) {
    const me = d.me || {};
    if (!me.grid) return;
    let resp;
    try {
      resp = await call("GET", "/api/v1/drills/" + encodeURIComponent(d.id) +
        "/households?grid=" + encodeURIComponent(me.grid));
    } catch (err) {
      return;
    }
    const box = document.querySelector(`[data-drill="${CSS.escape(d.id)}"] .w-drill-grid`);
    if (!box || resp.status !== 200 || !resp.data) return;
    const g = resp.data;
    const sum = both(el("p", "w-status"), `已摸排 ${g.reached} / ${g.total} 户`,
      `${g.reached} of ${g.total} households reached`);
    box.replaceChildren(sum, ...g.buildings.map((b) => building(d, b)));
  }

  function building(d, b) {
    const done = b.households.filter((h) => h.status).length;
    const node = el("details", "w-drill-building");
    node.open = !!open[b.id];
    node.addEventListener("toggle", () => { open[b.id] = node.open; });
    const head = el("summary", "", `${Number(b.id.slice(-2))} 栋 · ${done}/${b.households.length}`);
    const all = both(el("button", "w-secondary"), "整栋安全", "Whole building safe");
    all.type = "button";
    all.disabled = d.status !== "running" || done === b.households.length;
    all.addEventListener("click", (e) => {
      e.preventDefault();
      sweep(d, [{ building: b.id, status: "safe" }], all);
    });
    head.append(" ", all);
    node.append(head);
    for (const h of b.households) node.append(household(d, h));
    return node;
  }

  function household(d, h) {
    const row = el("div", "w-drill-hh" + (h.status ? " is-done" : ""));
    const tags = (h.tags || []).join("、");
    row.append(el("span", "w-drill-addr", [h.address, h.head, tags].filter(Boolean).join(" · ")));
    for (const [status, zh, en] of FOUND) {
      const b = el("button", "w-chip" + (h.status === status ? " is-on" : ""), zh);
      b.type = "button";
      b.title = en;
      b.disabled = d.status !== "running";
      b.addEventListener("click", () => sweep(d, [{ household: h.id, status }], b));
      row.append(b);
    }
    return row;
  }

  async function sweep(d, reports, button) {
    button.disabled = true;
    try {
      const resp = await call("POST", "/api/v1/drills/" + encodeURIComponent(d.id) + "/sweep",
        { reports });
      if (resp.status !== 201) button.disabled = false;
    } catch (err) {
      button.disabled = false;
    }
    loadGrid(d);
  }

  /** Each card's countdown to the target, from the server's clock fields. */
  function tick() {
    for (const node of document.querySelectorAll(".w-drill-clock")) {
      const c = JSON.parse(node.dataset.clock || "{}");
      const now = (Date.now() + state.skewMs) / 1000;
      let until = now;
      if (c.ended_at) until = Math.min(until, c.ended_at);
      if (c.paused_at) until = Math.min(until, c.paused_at);
      const elapsed = c.started_at ? Math.max(0, (until - c.started_at - c.paused_s) * c.speed) : 0;
      const left = c.target_s - elapsed;
      const s = Math.floor(Math.abs(left));
      const text = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
      node.textContent = left >= 0 ? "剩余 " + text : "超时 +" + text;
      node.classList.toggle("is-late", left < 0);
    }
  }

  function start() {
    load();
    clearInterval(timer);
    timer = setInterval(() => { tick(); }, 1000);
    setInterval(load, 10000);
  }

  gw.drills = { load, start };
})();
