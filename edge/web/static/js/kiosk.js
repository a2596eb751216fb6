// Kiosk behaviour: the idle timeout (warn, then clear everything and go back to the start) and the
// on-screen keypad for people who cannot use (or do not have) a keyboard.
"use strict";
(function () {
  var EASTERN = "٠١٢٣٤٥٦٧٨٩";
  var body = document.body;
  var lang = body.getAttribute("data-lang");
  function digits(n) {
    var s = String(n);
    return lang === "ar" ? s.replace(/[0-9]/g, function (d) { return EASTERN[+d]; }) : s;
  }

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
