/* The worker page's live push (loaded by assets/worker.js): Socket.IO over a WebSocket,
 * namespace /tasks. Just enough of the Engine.IO 4 / Socket.IO 5 protocol for one namespace
 * that pushes events to us: open, ping/pong, namespace connect, events; reconnects with
 * back-off. When it is down, the page's 30 s poll keeps the tasks fresh. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { state } = gw;
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
      gw.tasks.load();  // what changed while we were away
    } else if (type === "2") {
      const [name, payload] = JSON.parse(rest);
      if (name === "task") gw.tasks.upsert(payload, { quiet: false });
      else if (name === "drill" && gw.drills) gw.drills.load();
    } else if (type === "4" || type === "1") {
      backoff = Math.max(backoff, 15000);  // refused (signed out, or Redis away)
      if (ws) ws.close();
    }
  }

  function setLive(on) {
    state.live = on;
    if (on) state.online = true;
    gw.showConnection();
  }

  gw.live = { open };
})();
