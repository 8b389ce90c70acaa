/* Residents' report form: a character counter, one submit per tap, and the phone's position
 * when the resident asks for it. Does nothing on pages without the form (Dash loads every
 * script in this folder on the dispatch screens too). Makes no request of its own. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function counter() {
    var text = byId("description"), shown = byId("desc-n");
    if (!text || !shown) return;
    var update = function () { shown.textContent = String(text.value.length); };
    text.addEventListener("input", update);
    update();
  }

  function oneTap(form) {
    var button = byId("submit");
    if (!button) return;
    var label = button.innerHTML;
    form.addEventListener("submit", function () {
      button.disabled = true;
      say(button, "正在提交…", "Sending…");
    });
    // Back to a page kept in memory: let the resident submit again.
    window.addEventListener("pageshow", function () {
      button.disabled = false;
      button.innerHTML = label;
    });
  }

  function setPlace(lon, lat, acc) {
    byId("lon").value = lon;
    byId("lat").value = lat;
    byId("acc").value = acc;
  }

  /* Chinese first, English on its own line, as text (never markup). */
  function say(el, zh, en) {
    el.textContent = zh;
    if (!en) return;
    var line = document.createElement("span");
    line.className = "en";
    line.textContent = en;
    el.appendChild(line);
  }

  function phonePosition() {
    var button = byId("use-phone"), status = byId("place-status"), text = byId("place-text");
    // Browsers give positions only to secure pages (https or this machine).
    if (!button || !status || !text || !("geolocation" in navigator) || !window.isSecureContext) {
      return;
    }
    var gridText = text.innerHTML, buttonText = button.innerHTML, using = false;
    var maxAcc = Number(button.getAttribute("data-max-accuracy") || "100");

    function useFix(acc) {
      using = true;
      say(text, "使用手机定位（误差约 " + acc + " 米）", "Your phone's position (±" + acc + " m)");
      say(button, "改用二维码位置", "Use the QR code's grid instead");
      say(status, "");
    }

    function useGrid(zh, en) {
      using = false;
      setPlace("", "", "");
      text.innerHTML = gridText;
      button.innerHTML = buttonText;
      say(status, zh || "", en);
    }

    button.hidden = false;
    if (byId("lon").value) useFix(byId("acc").value || "?");  // kept across a re-shown form
    button.addEventListener("click", function () {
      if (using) { useGrid(); return; }
      say(status, "正在获取位置…", "Finding your position…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        var acc = Math.round(pos.coords.accuracy);
        if (acc > maxAcc) {
          useGrid("定位误差约 " + acc + " 米，不够准确，仍按二维码所在网格上报。",
                  "Position too rough (±" + acc + " m); the QR code's grid is used.");
          return;
        }
        setPlace(pos.coords.longitude.toFixed(6), pos.coords.latitude.toFixed(6), String(acc));
        useFix(acc);
      }, function () {
        useGrid("无法获取位置，仍按二维码所在网格上报。",
                "No position available; the QR code's grid is used.");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function start() {
    var form = byId("report-form");
    if (!form) return;
    counter();
    oneTap(form);
    phonePosition();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
