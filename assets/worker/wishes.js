/* The worker page's wish wall (loaded by assets/worker.js), for party members: the residents'
 * small wishes waiting to be taken, and a claim for one through the queue. A wish's words are
 * set as textContent only. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { root, state, $, q, say, showError, distanceM, metres, call } = gw;
  const WISHES = root.dataset.wishes === "1";

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
      gw.queue.enqueue({ kind: "claim", event: id });
      say(button, "认领中…", "Taking it…");
    });
    return node;
  }

  gw.wishes = { load: loadWishes };
})();
