/* The grid worker's phone page (/m/): my tasks from the API and the live push, the steps I
 * take, my position, reports from where I stand and the wish wall.
 *
 * Every write goes through one queue kept in localStorage and sent in order whenever the
 * connection allows, so a tap on a weak connection is never lost and never sent twice: a
 * step names the status it starts from, and a step the server has already taken (409) is
 * dropped; a report carries an idempotency key. Task statuses, steps and their words come
 * from the page (data-vocab, built from the lifecycle table), never spelled here. Whatever a
 * resident or a worker wrote is only ever set as textContent. Does nothing on other pages
 * (Dash loads every script in this folder on the dispatch screens too). */
(function () {
  "use strict";
  const root = document.getElementById("w-app");
  if (!root) return;

  const me = JSON.parse(root.dataset.me);
  const V = JSON.parse(root.dataset.vocab);
  const OPEN = new Set(V.open);
  const SHARE_ALLOWED = root.dataset.share === "1";
  const WISHES = root.dataset.wishes === "1";
  const QUEUE_KEY = "gd-worker-queue:" + me.id;
  const SHARE_KEY = "gd-worker-share:" + me.id;
  const POLL_MS = 30000;
  const POSITION_EVERY_MS = 10000;
  const POSITION_FRESH_MS = 5 * 60000;
  const MAX_PHOTOS = 6;
  const PHOTO_EDGE = 1600;
  const DETAILS_FOR_DONE = 10;

  const state = {
    tasks: {}, events: {}, eventAsked: {}, position: null, loaded: false,
    online: navigator.onLine, live: false, expired: false, skewMs: 0,
    notices: {}, queue: loadQueue(), sending: false, retryMs: 2000, retryTimer: null,
  };
  const cards = {};

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

  // --- the queue: every write, in order, kept across reloads -----------------------------
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (err) { return []; }
  }

  /** false when the phone's storage is full: the photos then stay in this tab only, and the
   * rest of the queue is kept without them. */
  function saveQueue() {
    try {
      localStorage.setItem(QUEUE_KEY, JSON.stringify(state.queue));
      return true;
    } catch (err) {
      const lean = state.queue.map((i) => (i.photos ? Object.assign({}, i, {
        photos: i.photos.map(() => "") }) : i));
      try { localStorage.setItem(QUEUE_KEY, JSON.stringify(lean)); } catch (again) { /* */ }
      return false;
    }
  }

  function enqueue(item) {
    item.id = item.id || newId();
    item.at = Date.now();
    state.queue.push(item);
    const kept = saveQueue();
    render();
    flush();
    return kept;
  }

  function drop(item) {
    state.queue = state.queue.filter((x) => x.id !== item.id);
    saveQueue();
  }

  function retryLater() {
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(flush, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 60000);
  }

  /** Send what is queued, oldest first; stop at the first item the network refuses and try
   * again later (or when the phone says it is online again). */
  async function flush() {
    if (state.sending || !state.queue.length || state.expired) return;
    state.sending = true;
    try {
      while (state.queue.length) {
        const item = state.queue[0];
        let done;
        try {
          done = await send(item);
        } catch (err) {
          done = !(err instanceof NetworkError);  // anything else would block the queue
          if (done) console.error("dropped a queued action", item.kind, err);
        }
        if (!done) {
          item.tries = (item.tries || 0) + 1;
          saveQueue();
          retryLater();
          break;
        }
        drop(item);
        state.retryMs = 2000;
        render();
      }
    } finally {
      state.sending = false;
      showBanner();
    }
  }

  /** true: the item is finished with (sent, already applied, or refused for good);
   * false: try again later. */
  async function send(item) {
    const sender = { step: sendStep, report: sendReport, claim: sendClaim }[item.kind];
    if (!sender) return true;
    return sender(item);
  }

  const retryable = (status) => status >= 500 || status === 401 || status === 429 ||
    status === 408;

  async function sendStep(item) {
    if (item.tries) {  // sent before without an answer: it may have been applied already
      const now = await call("GET", taskUrl(item.task));
      if (retryable(now.status)) return false;
      if (now.status !== 200) return refused(item, now);
      upsert(now.data, { quiet: true });
      if (now.data.status === item.to) return true;
      if (now.data.status !== item.from) {
        await refreshTask(item.task, item.to);
        return true;
      }
    }
    const urls = item.uploaded || [];
    const photos = item.photos || [];
    while (urls.length < photos.length) {
      if (!photos[urls.length]) {  // not kept through a reload (the phone's storage was full)
        urls.push("");
        continue;
      }
      const form = new FormData();
      form.append("photo", dataUrlBlob(photos[urls.length]), "photo.jpg");
      const up = await call("POST", taskUrl(item.task) + "/photos", form);
      if (retryable(up.status)) return false;
      if (up.status === 413 || up.status === 422) urls.push("");  // that picture only
      else if (up.status !== 201 && up.status !== 200) return refused(item, up);
      else urls.push(up.data.url);
      photos[urls.length - 1] = "";  // sent: its bytes need no room in the queue any more
      item.uploaded = urls;
      saveQueue();
    }
    const body = { status: item.to };
    if (item.reason) body.reason = item.reason;
    if (item.note) body.note = item.note;
    if (urls.some(Boolean)) body.photos = urls.filter(Boolean);
    const resp = await call("POST", taskUrl(item.task) + "/steps", body);
    if (retryable(resp.status)) return false;
    if (resp.status === 200) {
      upsert(resp.data, { quiet: true });
      return true;
    }
    if (resp.status === 409) {  // taken already, or the task moved meanwhile: nothing to redo
      await refreshTask(item.task, item.to);
      return true;
    }
    return refused(item, resp);
  }

  function refused(item, resp) {
    const message = (resp.data && resp.data.message) || "HTTP " + resp.status;
    const words = V.statuses[item.to] || ["", ""];
    state.notices[item.task] = ["未能提交“" + words[0] + "”，已撤销", message];
    refreshTask(item.task);
    return true;
  }

  async function sendReport(item) {
    const resp = await call("POST", "/api/v1/events", item.body, { "Idempotency-Key": item.id });
    if (retryable(resp.status)) return false;
    const result = $("r-result");
    result.hidden = false;
    if (resp.status === 201 || resp.status === 200) {
      result.className = "w-result";
      say(result, "已上报，编号 " + resp.data.id, "Reported: " + resp.data.id);
    } else {
      result.className = "w-result is-bad";
      say(result, "上报未被接受，请修改后重试",
        (resp.data && resp.data.message) || "HTTP " + resp.status);
    }
    return true;
  }

  async function sendClaim(item) {
    const resp = await call("POST", "/api/v1/wishes/" + encodeURIComponent(item.event) +
      "/claim", {});
    if (retryable(resp.status)) return false;
    const words = {
      404: ["这个心愿已不在心愿墙上", "This wish is no longer on the wall"],
      409: ["已被其他党员认领", "Someone else took it first"],
    }[resp.status];
    if (resp.status === 409) await loadTasks();  // an earlier try may have taken it for me
    const mine = resp.status === 409 &&
      Object.values(state.tasks).some((t) => t.event === item.event);
    if (resp.status < 300 || mine) {
      state.notices["wish:" + item.event] = ["已认领，见“任务”", "Taken: see Tasks"];
      if (resp.data && resp.data.id && resp.data.event) upsert(resp.data, { quiet: true });
      loadTasks();
    } else {
      state.notices["wish:" + item.event] = words ||
        ["认领未成功", (resp.data && resp.data.message) || "HTTP " + resp.status];
    }
    loadWishes();
    return true;
  }

  function dataUrlBlob(url) {
    const [head, b64] = url.split(",");
    const type = (head.match(/data:([^;]+)/) || [])[1] || "image/jpeg";
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type });
  }

  const taskUrl = (id) => "/api/v1/tasks/" + encodeURIComponent(id);

  // --- tasks ---------------------------------------------------------------------------------
  async function loadTasks() {
    let resp;
    try {
      resp = await call("GET", "/api/v1/tasks?worker=" + encodeURIComponent(me.id));
    } catch (err) {
      return;
    }
    if (resp.status !== 200 || !resp.data) return;
    const first = !state.loaded;
    for (const t of resp.data.tasks || []) upsert(t, { quiet: first, batch: true });
    state.loaded = true;
    render();
    details();
  }

  async function refreshTask(id, wanted) {
    try {
      const resp = await call("GET", taskUrl(id));
      if (resp.status === 200) {
        upsert(resp.data, { quiet: true });
        if (wanted && resp.data.status !== wanted && !state.notices[id]) {
          const now = statusWords(resp.data.status);
          state.notices[id] = ["操作未生效：任务已是“" + now[0] + "”", "Not applied: the task is " +
            (now[1] || resp.data.status).toLowerCase() + " now"];
        }
      }
    } catch (err) { /* shown once the connection returns */ }
    render();
  }

  /** A task as the server has it now; the newer revision wins. A new assignment buzzes. */
  function upsert(task, opts) {
    if (!task || !task.id) return;
    const had = state.tasks[task.id];
    if (had && had.rev > task.rev) return;
    state.tasks[task.id] = task;
    const fresh = task.status === V.awaiting && (!had || had.status !== V.awaiting);
    if (fresh && !opts.quiet) {
      if (navigator.vibrate) navigator.vibrate([250, 120, 250]);
      state.flash = task.id;
    }
    if (!opts.batch) {
      render();
      details();
    }
  }

  /** Event details (category, address, description) for the cards, one request at a time. */
  async function details() {
    const wanted = sortedTasks().filter((t, i) => OPEN.has(t.status) || i < DETAILS_FOR_DONE)
      .map((t) => t.event).filter((e) => !state.events[e] && !state.eventAsked[e]);
    for (const id of wanted) {
      state.eventAsked[id] = true;
      try {
        const resp = await call("GET", "/api/v1/events/" + encodeURIComponent(id));
        if (resp.status === 200) state.events[id] = resp.data;
        else if (resp.status >= 500) delete state.eventAsked[id];
      } catch (err) {
        delete state.eventAsked[id];
        return;
      }
      render();
    }
  }

  function sortedTasks() {
    return Object.values(state.tasks).sort((a, b) => b.created_at - a.created_at);
  }

  /** The status the card shows: the server's, moved on by steps still waiting to be sent. */
  function effective(task) {
    const pending = state.queue.filter((i) => i.kind === "step" && i.task === task.id);
    return { status: pending.length ? pending[pending.length - 1].to : task.status, pending };
  }

  // --- drawing --------------------------------------------------------------------------------
  function render() {
    const open = $("w-tasks"), done = $("w-done");
    const tasks = sortedTasks();
    let awaiting = 0, finished = 0;
    const want = { open: [], done: [] };
    for (const task of tasks) {
      const node = cards[task.id] || (cards[task.id] = makeCard(task.id));
      const eff = effective(task);
      fill(node, task, eff);
      if (OPEN.has(eff.status)) want.open.push(node); else want.done.push(node);
      if (eff.status === V.awaiting) awaiting += 1;
      if (!OPEN.has(eff.status)) finished += 1;
    }
    place(open, want.open);
    place(done, want.done);
    $("w-empty").hidden = !state.loaded || want.open.length > 0;
    $("w-done-box").hidden = finished === 0;
    $("w-done-n").textContent = String(finished);
    const count = $("w-count");
    count.hidden = awaiting === 0;
    count.textContent = String(awaiting);
    state.flash = null;
    ticks();
    showBanner();
  }

  /** Put the cards in order, moving only those out of place (a moved node loses focus). */
  function place(list, nodes) {
    nodes.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    while (list.children.length > nodes.length) list.removeChild(list.lastChild);
  }

  function makeCard(id) {
    const node = $("tpl-task").content.firstElementChild.cloneNode(true);
    node.dataset.task = id;
    return node;
  }

  function fill(node, task, eff) {
    const event = state.events[task.event];
    const changed = node.dataset.status !== eff.status;
    node.dataset.status = eff.status;
    node.classList.toggle("is-awaiting", eff.status === V.awaiting);
    node.classList.toggle("is-closed", !OPEN.has(eff.status));
    if (state.flash === task.id) {
      node.classList.remove("is-new");
      void node.offsetWidth;
      node.classList.add("is-new");
    }
    const cat = event && event.category;
    q(node, ".w-cat").textContent = cat && cat.name ? cat.name : "事件 " + task.event;
    q(node, ".w-cat-en").textContent = cat ? cat.name_en || "" : "";
    const sev = q(node, ".w-sev");
    sev.hidden = !(event && event.severity === "urgent");
    sev.textContent = "紧急";
    q(node, ".w-status").textContent = statusWords(eff.status)[0];
    q(node, ".w-desc").textContent = event ? event.description || "" : "正在读取详情…";
    const loc = event ? event.location || {} : {};
    const grid = event ? event.grid || {} : {};
    q(node, ".w-addr").textContent = [grid.street_name, loc.address, loc.building]
      .filter(Boolean).join(" · ");
    node._place = typeof loc.lat === "number" ? { lat: loc.lat, lon: loc.lon } : null;
    q(node, ".w-coords").textContent = node._place ?
      "坐标 " + loc.lat.toFixed(5) + ", " + loc.lon.toFixed(5) : "";
    const said = [];
    if (task.note) said.push("说明：" + task.note);
    if (task.reason) said.push("原因：" + task.reason);
    q(node, ".w-said").hidden = said.length === 0;
    q(node, ".w-said").textContent = said.join("\n");
    shots(q(node, ".w-shots"), task.photos || []);
    const notice = state.notices[task.id];
    const pending = q(node, ".w-pending");
    if (eff.pending.length) {
      pending.hidden = false;
      say(pending, "待发送：" + eff.pending.map((i) => statusWords(i.to)[0]).join(" → "),
        "Waiting to send");
    } else if (notice) {
      pending.hidden = false;
      say(pending, notice[0], notice[1]);
    } else {
      pending.hidden = true;
    }
    q(node, ".w-id").textContent = "任务 " + task.id + " · 事件 " + task.event;
    node._task = task;
    node._eff = eff;
    if (changed) q(node, ".w-slot").replaceChildren();
    actions(node, task, eff);
  }

  /** The task's photos, small; only links this host serves are shown. */
  function shots(list, urls) {
    const wanted = urls.filter((u) => typeof u === "string" && u.startsWith("/api/"));
    if (list.dataset.urls === wanted.join(" ")) return;
    list.dataset.urls = wanted.join(" ");
    list.hidden = wanted.length === 0;
    list.replaceChildren(...wanted.map((url, i) => {
      const li = document.createElement("li");
      const img = document.createElement("img");
      img.src = url;
      img.alt = "现场照片 " + (i + 1);
      img.loading = "lazy";
      li.appendChild(img);
      return li;
    }));
  }

  function actions(node, task, eff) {
    const box = q(node, ".w-actions");
    const slot = q(node, ".w-slot");
    box.replaceChildren();
    if (slot.firstChild) return;  // a form is open: its own buttons
    for (const step of V.steps[eff.status] || []) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = step.reason ? "w-danger" : "w-primary";
      say(b, step.zh, step.en);
      b.addEventListener("click", () => {
        if (step.reason || step.note) openForm(node, task, eff.status, step);
        else stepNow(task, eff.status, step, {});
      });
      box.appendChild(b);
    }
  }

  function stepNow(task, from, step, extra) {
    delete state.notices[task.id];
    enqueue(Object.assign({ kind: "step", task: task.id, from, to: step.to }, extra));
  }

  /** The clocks, each second: since assigned, the acceptance countdown, escalation. */
  function ticks() {
    const t = nowS();
    for (const node of Object.values(cards)) {
      const task = node._task, eff = node._eff;
      if (!task || !node.isConnected) continue;
      const since = minutes(t - task.created_at);
      if (t - task.created_at < 60) say(q(node, ".w-since"), "刚刚派单", "just assigned");
      else say(q(node, ".w-since"), "派单 " + since[0] + "前", "assigned " + since[1] + " ago");
      const due = q(node, ".w-due");
      const waiting = eff.status === V.awaiting && task.accept_due;
      due.hidden = !waiting;
      node.classList.toggle("is-late", Boolean(waiting && t > task.accept_due));
      if (waiting) {
        const left = task.accept_due - t;
        due.classList.toggle("is-late", left < 0);
        const long = minutes(left);
        if (left >= 3600) say(due, "接单剩余 " + long[0], long[1] + " left to accept");
        else if (left >= 0) say(due, "接单剩余 " + clock(left), clock(left) + " left to accept");
        else {
          const late = minutes(-left);
          say(due, "接单超时 " + late[0], late[1] + " late to accept");
        }
      }
      const esc = q(node, ".w-esc");
      const level = task.escalation ? task.escalation.level : 0;
      esc.hidden = !level;
      if (level) {
        const tier = V.tiers[task.escalation.tier] || [task.escalation.tier, ""];
        say(esc, "已升级 · " + tier[0], "Escalated · " + tier[1]);
      }
      const dist = q(node, ".w-dist");
      dist.textContent = state.position && node._place ?
        "距我 " + metres(distanceM(state.position, node._place)) : "";
    }
  }

  // --- the step forms: a reason to decline, a note and photos to resolve -------------------
  function openForm(node, task, from, step) {
    const slot = q(node, ".w-slot");
    const form = $("tpl-step").content.firstElementChild.cloneNode(true);
    const text = q(form, "textarea");
    text.maxLength = V.max_text;
    say(q(form, ".w-ask"), step.reason ? "退单原因（必填）" : "处理情况（必填）",
      step.reason ? "Reason (required)" : "What was done (required)");
    text.placeholder = step.reason ? "例如：不在本网格 / 需专业部门处理" : "例如：已清理杂物，通道畅通";
    say(q(form, "button[type=submit]"), step.zh, step.en);
    const photos = [];
    const photoBox = q(form, ".w-photos");
    photoBox.hidden = !step.photos;
    const error = q(form, ".w-error");
    q(form, "input[type=file]").addEventListener("change", async (e) => {
      const file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) return;
      if (photos.length >= MAX_PHOTOS) return showError(error, "最多 " + MAX_PHOTOS + " 张照片",
        "At most " + MAX_PHOTOS + " photos");
      try {
        const url = await shrink(file);
        photos.push(url);
        const li = document.createElement("li");
        const img = document.createElement("img");
        img.src = url;
        img.alt = "现场照片 " + photos.length;
        li.appendChild(img);
        q(form, ".w-thumbs").appendChild(li);
        error.hidden = true;
      } catch (err) {
        showError(error, "无法读取这张照片", "This picture could not be read");
      }
    });
    q(form, ".w-cancel").addEventListener("click", () => {
      slot.replaceChildren();
      actions(node, node._task, node._eff);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const words = text.value.trim();
      if (!words) {
        showError(error, step.reason ? "请填写退单原因" : "请填写处理情况",
          step.reason ? "A reason is required" : "Say what was done");
        text.focus();
        return;
      }
      slot.replaceChildren();
      const extra = step.reason ? { reason: words } : { note: words, photos };
      stepNow(task, from, step, extra);
    });
    slot.replaceChildren(form);
    q(node, ".w-actions").replaceChildren();
    text.focus();
  }

  function showError(node, zh, en) {
    node.hidden = false;
    say(node, zh, en);
  }

  /** A camera photo made small enough for a weak connection and the offline queue. */
  function shrink(file) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      const url = URL.createObjectURL(file);
      img.onload = () => {
        URL.revokeObjectURL(url);
        const scale = Math.min(1, PHOTO_EDGE / Math.max(img.naturalWidth, img.naturalHeight));
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/jpeg", 0.72));
      };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("unreadable")); };
      img.src = url;
    });
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

  window.addEventListener("online", () => {
    state.online = true;
    state.retryMs = 2000;
    showConnection();
    flush();
    loadTasks();
    live.open();
  });
  window.addEventListener("offline", () => { state.online = false; showConnection(); });

  // --- live push: Socket.IO over a WebSocket, namespace /tasks --------------------------------
  /** Just enough of the Engine.IO 4 / Socket.IO 5 protocol for one namespace that pushes
   * events to us: open, ping/pong, namespace connect, events; reconnects with back-off. */
  const live = (function () {
    const NSP = "/tasks";
    let ws = null, watchdog = null, backoff = 1000, timer = null;

    function open() {
      if (ws || !("WebSocket" in window)) return;
      clearTimeout(timer);
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(proto + "//" + location.host + "/socket.io/?EIO=4&transport=websocket");
      let wait = 60000;
      const alive = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => ws && ws.close(), wait);
      };
      ws.onmessage = (m) => {
        const data = String(m.data);
        alive();
        if (data[0] === "0") {
          const hello = JSON.parse(data.slice(1));
          wait = (hello.pingInterval || 25000) + (hello.pingTimeout || 20000) + 2000;
          ws.send("40" + NSP + ",");
        } else if (data[0] === "2") ws.send("3");
        else if (data[0] === "4") packet(data.slice(1));
        else if (data[0] === "1") ws.close();
      };
      ws.onclose = () => {
        clearTimeout(watchdog);
        ws = null;
        setLive(false);
        timer = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 60000);
      };
      ws.onerror = () => { if (ws) ws.close(); };
    }

    function packet(p) {
      const type = p[0];
      let rest = p.slice(1), nsp = "/";
      if (rest[0] === "/") {
        const comma = rest.indexOf(",");
        nsp = comma < 0 ? rest : rest.slice(0, comma);
        rest = comma < 0 ? "" : rest.slice(comma + 1);
      }
      if (nsp !== NSP) return;
      rest = rest.replace(/^\d+/, "");
      if (type === "0") {
        backoff = 1000;
        setLive(true);
        loadTasks();  // what changed while we were away
      } else if (type === "2") {
        const [name, payload] = JSON.parse(rest);
        if (name === "task") upsert(payload, { quiet: false });
      } else if (type === "4" || type === "1") {
        backoff = Math.max(backoff, 15000);  // refused (signed out, or Redis away)
        if (ws) ws.close();
      }
    }

    function setLive(on) {
      state.live = on;
      if (on) state.online = true;
      showConnection();
    }

    return { open };
  })();

  // --- my position ----------------------------------------------------------------------------
  const position = (function () {
    let watch = null, lastSent = 0, timer = null, latest = null;

    function onFix(p) {
      state.position = { lon: p.coords.longitude, lat: p.coords.latitude,
        accuracy: p.coords.accuracy, at: p.timestamp || Date.now() };
      showPosition();
      ticks();
      if (watch !== null) {
        latest = state.position;
        schedule();
      }
    }

    function schedule() {
      if (timer) return;
      const wait = Math.max(0, lastSent + POSITION_EVERY_MS - Date.now());
      timer = setTimeout(sendLatest, wait);
    }

    async function sendLatest() {
      timer = null;
      const p = latest;
      if (!p || watch === null) return;
      latest = null;
      lastSent = Date.now();
      const at = new Date(p.at + state.skewMs).toISOString();  // in the server's time
      try {
        await call("POST", "/api/v1/workers/me/position", { lon: p.lon, lat: p.lat,
          accuracy_m: Math.min(Math.round(p.accuracy || 0), 5000), at });
      } catch (err) {
        latest = latest || p;  // offline: the newest fix goes when the connection returns
        lastSent = Date.now();
        schedule();
      }
    }

    function onError(err) {
      const hint = $("w-pos");
      if (err && err.code === 1) {
        say(hint, "未获得定位权限：请在浏览器设置中允许本网站使用位置",
          "Location permission denied: allow it for this site in the browser settings");
        stop();
      } else {
        say(hint, "暂时无法定位，稍后自动重试", "No position yet; retrying");
      }
    }

    function start() {
      if (!navigator.geolocation || watch !== null) return;
      watch = navigator.geolocation.watchPosition(onFix, onError,
        { enableHighAccuracy: true, maximumAge: 15000, timeout: 30000 });
      localStorage.setItem(SHARE_KEY, "1");
      pressed(true);
    }

    function stop() {
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      watch = null;
      localStorage.setItem(SHARE_KEY, "0");
      pressed(false);
      showPosition();
    }

    function once() {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(onFix, onError,
        { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
    }

    function pressed(on) {
      const b = $("w-share");
      if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
    }

    function showPosition() {
      const hint = $("w-pos"), p = state.position;
      if (!p) return;
      const text = "我的位置 " + p.lat.toFixed(5) + ", " + p.lon.toFixed(5) + " ±" +
        Math.round(p.accuracy || 0) + " m";
      say(hint, text + (watch !== null ? " · 已共享" : " · 未共享"),
        watch !== null ? "shared with the centre" : "not shared");
      reportPlace();
    }

    return { start, stop, once, sharing: () => watch !== null };
  })();

  // --- report from where I stand ------------------------------------------------------------
  function reportPlace() {
    const p = state.position, place = $("r-place");
    if (!p) return;
    say(place, "将使用我的位置 " + p.lat.toFixed(5) + ", " + p.lon.toFixed(5) + "（±" +
      Math.round(p.accuracy || 0) + " m）", "Your phone's position will be sent");
  }

  function reportForm() {
    const form = $("w-report");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const result = $("r-result");
      const cat = $("r-cat").value, text = $("r-desc").value.trim();
      result.className = "w-result is-bad";
      result.hidden = false;
      if (!cat) return say(result, "请选择问题类型", "Choose a category");
      if (!text) return say(result, "请填写情况说明", "Describe the problem");
      const p = state.position;
      if (!p || Date.now() - p.at > POSITION_FRESH_MS) {
        position.once();
        return say(result, "正在获取当前位置，请稍候再提交", "Waiting for your position");
      }
      const kept = enqueue({ kind: "report", body: { category: cat, description: text,
        lon: Number(p.lon.toFixed(6)), lat: Number(p.lat.toFixed(6)) } });
      form.reset();
      result.className = "w-result";
      if (!state.online || !kept) {
        say(result, "已保存在手机上，联网后自动上报", "Saved on the phone; sent when online");
      } else {
        say(result, "正在上报…", "Sending…");
      }
    });
    $("r-locate").addEventListener("click", () => position.once());
  }

  // --- the wish wall (party members) ---------------------------------------------------------
  async function loadWishes() {
    if (!WISHES) return;
    const list = $("w-wishes"), msg = $("w-wishes-msg");
    let resp;
    try {
      resp = await call("GET", "/api/v1/wishes");
    } catch (err) {
      msg.hidden = false;
      return say(msg, "离线：联网后显示心愿", "Offline: wishes show once you are online");
    }
    if (resp.status === 404) {
      list.replaceChildren();
      msg.hidden = false;
      return say(msg, "心愿墙即将开放，敬请期待", "The wish wall is not open yet");
    }
    if (resp.status !== 200 || !resp.data) {
      msg.hidden = false;
      return say(msg, "心愿墙暂时无法读取", "The wish wall cannot be read right now");
    }
    // {wishes: {published: [...], ...}}: the ones waiting for a party member to take them
    const found = Array.isArray(resp.data) ? resp.data : resp.data.wishes || [];
    const wishes = Array.isArray(found) ? found : found.published || [];
    list.replaceChildren(...wishes.map(wishCard));
    msg.hidden = wishes.length > 0;
    if (!wishes.length) say(msg, "暂无待认领的心愿", "No wishes waiting");
  }

  function wishCard(w) {
    const node = $("tpl-wish").content.firstElementChild.cloneNode(true);
    const id = w.id || w.event || "";
    const cat = w.category || {};
    q(node, ".w-cat").textContent = w.title || cat.name || "微心愿";
    q(node, ".w-desc").textContent = w.description || "";
    const loc = w.location || {};
    q(node, ".w-addr").textContent = [loc.address, loc.building].filter(Boolean).join(" · ");
    if (typeof loc.lat === "number") {
      q(node, ".w-coords").textContent = "坐标 " + loc.lat.toFixed(5) + ", " + loc.lon.toFixed(5);
      if (state.position) {
        q(node, ".w-dist").textContent = "距我 " + metres(distanceM(state.position, loc));
      }
    }
    const notice = state.notices["wish:" + id];
    if (notice) showError(q(node, ".w-error"), notice[0], notice[1]);
    const button = q(node, ".w-claim");
    const queued = state.queue.some((i) => i.kind === "claim" && i.event === id);
    button.disabled = queued || !id;
    if (queued) say(button, "认领待发送", "Claim waiting to send");
    button.addEventListener("click", () => {
      button.disabled = true;
      delete state.notices["wish:" + id];
      enqueue({ kind: "claim", event: id });
      say(button, "认领中…", "Taking it…");
    });
    return node;
  }

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
    if (name === "report" && !state.position) position.once();
    if (name === "wishes") loadWishes();
    window.scrollTo(0, 0);
  }

  // --- start --------------------------------------------------------------------------------
  function start() {
    tabs();
    reportForm();
    const share = $("w-share");
    if (share && SHARE_ALLOWED) {
      share.addEventListener("click", () => (position.sharing() ? position.stop() :
        position.start()));
      if (localStorage.getItem(SHARE_KEY) === "1") position.start();
    }
    showConnection();
    render();
    loadTasks().then(flush);
    live.open();
    setInterval(() => { if (!document.hidden) loadTasks(); }, POLL_MS);
    setInterval(() => { if (!document.hidden) ticks(); }, 1000);
    setInterval(flush, 30000);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) { loadTasks(); flush(); }
    });
  }

  start();
})();
