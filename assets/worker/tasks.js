/* The worker page's tasks (loaded by assets/worker.js): my tasks from the API and the live
 * push, a card for each with the event's details, the buttons for my next steps and the
 * clocks. A step goes to the queue; until it is sent, the card shows the status it leads to.
 * Whatever a resident or a worker wrote is only ever set as textContent. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { me, V, OPEN, state, $, q, nowS, say, minutes, clock, distanceM, metres,
    statusWords, call } = gw;
  const DETAILS_FOR_DONE = 10;
  const cards = {};

  // --- loading --------------------------------------------------------------------------------
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
      const resp = await call("GET", gw.queue.taskUrl(id));
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
    gw.showBanner();
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
        if (step.reason || step.note) gw.steps.openForm(node, task, eff.status, step);
        else stepNow(task, eff.status, step, {});
      });
      box.appendChild(b);
    }
  }

  function stepNow(task, from, step, extra) {
    delete state.notices[task.id];
    gw.queue.enqueue(Object.assign({ kind: "step", task: task.id, from, to: step.to }, extra));
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

  gw.tasks = {
    load: loadTasks, refresh: refreshTask, upsert, render, actions, stepNow, ticks,
  };
})();
