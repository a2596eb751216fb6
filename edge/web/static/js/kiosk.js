// Kiosk behaviour: the idle timeout (warn, then clear everything and go back to the start) and the
// on-screen keypad for people who cannot use (or do not have) a keyboard.
"use strict";
(function () {
  var body = document.body;
  var lang = body.getAttribute("data-lang");
  function digits(n) { return lang === "ar" ? window.edgeEastern(n) : String(n); }

  var warnAfter = +body.getAttribute("data-idle-warn") * 1000;
  var resetAfter = +body.getAttribute("data-idle-reset");
  var autoReset = body.getAttribute("data-auto-reset");
  var resetUrl = body.getAttribute("data-reset-url");
  var onStart = !document.querySelector(".kiosk-header .back");
  var dialog, count, warnTimer = null, countdown = null, left = 0;

  function reset() { window.location.assign(resetUrl); }

  function hideWarning() {
    if (countdown) { clearInterval(countdown); countdown = null; }
    if (dialog && !dialog.hidden) { dialog.hidden = true; }
  }

  function showWarning() {
    left = resetAfter;
    count.textContent = digits(left);
    dialog.hidden = false;
    document.getElementById("idle-stay").focus();
    countdown = setInterval(function () {
      left -= 1;
      count.textContent = digits(Math.max(left, 0));
      if (left <= 0) { clearInterval(countdown); reset(); }
    }, 1000);
  }

  function activity() {
    if (countdown) return; // while warning, only the button (or a touch on it) keeps the session
    if (warnTimer) clearTimeout(warnTimer);
    warnTimer = setTimeout(showWarning, warnAfter);
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("idle");
    count = document.getElementById("idle-count");
    document.getElementById("idle-stay").addEventListener("click", function () { hideWarning(); activity(); });
    // The start screen in Arabic with nothing entered has nothing to clear.
    if (!(onStart && lang === "ar")) {
      ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
        document.addEventListener(name, activity, { passive: true, capture: true });
      });
      activity();
    }
    if (autoReset) {
      // A finished ticket or answer returns to the start on its own, with the same warning first.
      var quiet = Math.max(+autoReset * 1000 - resetAfter * 1000, 1000);
      warnAfter = Math.min(warnAfter, quiet);
      activity();
    }

    // A code held under the van's QR reader fills the form and sends it, as if typed. The page asks the
    // server (long poll) for codes read after it opened, never for older ones.
    var qrForm = document.querySelector("form[data-qr-field]");
    if (qrForm && window.fetch) {
      var qrField = document.getElementById(qrForm.getAttribute("data-qr-field"));
      var qrUrl = qrForm.getAttribute("data-qr-url");
      var epoch = null, last = null, sent = false;
      var poll = function () {
        var url = qrUrl + (last === null ? "" : "?after=" + last + "&epoch=" + encodeURIComponent(epoch));
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
          .then(function (answer) {
            epoch = answer.epoch; last = answer.last;
            if (answer.events && answer.events.length && !sent) {
              sent = true;
              qrField.value = answer.events[answer.events.length - 1].text;
              activity();
              qrForm.submit();
              return;
            }
            poll();
          })
          .catch(function () { setTimeout(poll, 3000); });  // the server restarting: try again shortly
      };
      poll();
    }

    document.querySelectorAll(".keypad").forEach(function (pad) {
      var input = document.getElementById(pad.getAttribute("data-target"));
      pad.hidden = false;
      pad.addEventListener("click", function (event) {
        var key = event.target.closest("[data-key]");
        if (!key) return;
        var k = key.getAttribute("data-key");
        input.value = k === "back" ? input.value.slice(0, -1) : input.value + k;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });
})();
