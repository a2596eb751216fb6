// Small behaviours every page may use; no inline script anywhere (the CSP forbids it).
"use strict";
// Digits as an Arabic reader expects them (the server's edge.core.digits.to_eastern, for live updates).
window.edgeEastern = function (text) {
  return String(text).replace(/[0-9]/g, function (d) { return "٠١٢٣٤٥٦٧٨٩"[+d]; });
};
document.addEventListener("click", function (event) {
  var back = event.target.closest("[data-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
  var print = event.target.closest("[data-print]");
  if (print) {
    event.preventDefault();
    window.print();
  }
  var confirmer = event.target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
