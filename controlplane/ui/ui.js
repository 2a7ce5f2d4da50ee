// The web view's only script: fetch the page's fragment from the same node every second
// and swap it in. When a fetch fails the page says so loudly, since what it shows is then
// getting old. Nothing else: no framework, no other origin.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("refresh");
  if (!live || !status) return;
  var lastOK = "page load";
  function say(state, text) {
    status.setAttribute("data-state", state);
    status.textContent = text;
  }
  function tick() {
    fetch(live.getAttribute("data-src"), { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        lastOK = new Date().toLocaleTimeString();
        say("ok", "live · refreshed " + lastOK);
      })
      .catch(function (e) {
        say("failing", "NOT UPDATING (" + e.message + "): what you see is from " + lastOK);
      })
      .then(function () { setTimeout(tick, 1000); });
  }
  setTimeout(tick, 1000);
})();
