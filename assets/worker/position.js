/* The worker page's position (loaded by assets/worker.js): the phone's fix for distances on
 * the cards, sent to the centre every 10 s while "Share position" is on (remembered on the
 * phone), and the report from where I stand, which goes through the queue. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { me, state, $, say, call } = gw;
  const SHARE_KEY = "gd-worker-share:" + me.id;
  const POSITION_EVERY_MS = 10000;
  const POSITION_FRESH_MS = 5 * 60000;

  // --- my position ----------------------------------------------------------------------------
  const position = (function () {
    let watch = null, lastSent = 0, timer = null, latest = null;

    function onFix(p) {
      state.position = { lon: p.coords.longitude, lat: p.coords.latitude,
        accuracy: p.coords.accuracy, at: p.timestamp || Date.now() };
      showPosition();
      gw.tasks.ticks();
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

  /** The header's "Share position" button, where the page offers it; sharing resumes on a
   * reload if it was on. */
  function shareButton(allowed) {
    const share = $("w-share");
    if (share && allowed) {
      share.addEventListener("click", () => (position.sharing() ? position.stop() :
        position.start()));
      if (localStorage.getItem(SHARE_KEY) === "1") position.start();
    }
  }

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
      const kept = gw.queue.enqueue({ kind: "report", body: { category: cat, description: text,
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

  gw.position = Object.assign(position, { shareButton, reportForm });
})();
