/* The worker page's queue (loaded by assets/worker.js): every write goes through it, kept in
 * localStorage and sent in order whenever the connection allows, so a tap on a weak
 * connection is never lost and never sent twice: a step names the status it starts from, and
 * a step the server has already taken (409) is dropped; a report carries an idempotency key.
 * Whatever the server answers in words is set as textContent only. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { me, V, state, $, say, newId, call, NetworkError } = gw;
  const QUEUE_KEY = "gd-worker-queue:" + me.id;

  // --- every write, in order, kept across reloads ---------------------------------------------
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
    gw.tasks.render();
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
        gw.tasks.render();
      }
    } finally {
      state.sending = false;
      gw.showBanner();
    }
  }

  // --- sending one item -------------------------------------------------------------------------
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
    const { tasks } = gw;
    if (item.tries) {  // sent before without an answer: it may have been applied already
      const now = await call("GET", taskUrl(item.task));
      if (retryable(now.status)) return false;
      if (now.status !== 200) return refused(item, now);
      tasks.upsert(now.data, { quiet: true });
      if (now.data.status === item.to) return true;
      if (now.data.status !== item.from) {
        await tasks.refresh(item.task, item.to);
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
      form.append("photo", gw.steps.dataUrlBlob(photos[urls.length]), "photo.jpg");
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
      tasks.upsert(resp.data, { quiet: true });
      return true;
    }
    if (resp.status === 409) {  // taken already, or the task moved meanwhile: nothing to redo
      await tasks.refresh(item.task, item.to);
      return true;
    }
    return refused(item, resp);
  }

  function refused(item, resp) {
    const message = (resp.data && resp.data.message) || "HTTP " + resp.status;
    const words = V.statuses[item.to] || ["", ""];
    state.notices[item.task] = ["未能提交“" + words[0] + "”，已撤销", message];
    gw.tasks.refresh(item.task);
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
    const { tasks } = gw;
    const resp = await call("POST", "/api/v1/wishes/" + encodeURIComponent(item.event) +
      "/claim", {});
    if (retryable(resp.status)) return false;
    const words = {
      404: ["这个心愿已不在心愿墙上", "This wish is no longer on the wall"],
      409: ["已被其他党员认领", "Someone else took it first"],
    }[resp.status];
    if (resp.status === 409) await tasks.load();  // an earlier try may have taken it for me
    const mine = resp.status === 409 &&
      Object.values(state.tasks).some((t) => t.event === item.event);
    if (resp.status < 300 || mine) {
      state.notices["wish:" + item.event] = ["已认领，见“任务”", "Taken: see Tasks"];
      if (resp.data && resp.data.id && resp.data.event) tasks.upsert(resp.data, { quiet: true });
      tasks.load();
    } else {
      state.notices["wish:" + item.event] = words ||
        ["认领未成功", (resp.data && resp.data.message) || "HTTP " + resp.status];
    }
    gw.wishes.load();
    return true;
  }

  const taskUrl = (id) => "/api/v1/tasks/" + encodeURIComponent(id);

  state.queue = loadQueue();
  gw.queue = { enqueue, flush, taskUrl };
})();
