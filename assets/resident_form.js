/* Residents' form: optionally fill in the phone's position (asked only when ticked). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("use-gps");
    if (!box || !navigator.geolocation) return;
    box.addEventListener("change", function () {
      if (!box.checked) {
        document.getElementById("lon").value = "";
        document.getElementById("lat").value = "";
        return;
      }
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
        document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
      }, function () { box.checked = false; }, { timeout: 8000 });
    });
  });
})();
