// Keeps the fleet overview live: every few seconds the server renders the fleet part again and it is
// swapped in. Polling rather than SSE: waitress serves a fixed pool of threads, and one long-lived
// stream per open dashboard would use them up.
(function () {
  "use strict";
  var box = document.getElementById("fleet");
  if (!box) { return; }
  var url = box.getAttribute("data-refresh-url");
  var every = parseInt(box.getAttribute("data-refresh-ms"), 10) || 3000;
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || !r.ok) { throw new Error("refresh " + r.status); }
        return r.text();
      })
      .then(function (html) { box.innerHTML = html; box.removeAttribute("data-stale"); })
      .catch(function () { box.setAttribute("data-stale", "1"); })
      .then(function () { window.setTimeout(refresh, every); });
  }
  window.setTimeout(refresh, every);
}());
