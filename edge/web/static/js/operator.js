// Console behaviour: national ID and mobile checked while they are typed, with what the number says
// (birth date, gender, governorate) shown back for the operator to compare with the card.
"use strict";
(function () {
  var csrf = document.body.getAttribute("data-csrf");
  var base = document.body.getAttribute("data-check-base");
  function check(input) {
    var kind = input.getAttribute("data-check");
    var out = document.getElementById(input.id + "-check");
    var text = input.value.trim();
    var digits = text.replace(/[^0-9٠-٩]/g, "");
    if (!text || (kind === "national-id" && digits.length < 14) || (kind === "mobile" && digits.length < 11)) {
      out.textContent = "";
      input.removeAttribute("aria-invalid");
      return;
    }
    fetch(base + kind, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text })
    }).then(function (r) { return r.json(); }).then(function (answer) {
      out.textContent = "";
      var p = document.createElement("p");
      if (answer.ok) {
        p.className = "ok";
        p.textContent = kind === "national-id"
          ? [answer.birth_date, answer.gender, answer.governorate].join(" · ")
          : answer.mobile;
        input.removeAttribute("aria-invalid");
        out.appendChild(p);
      } else {
        p.className = "bad";
        p.textContent = answer.message;
        var q = document.createElement("p");
        q.className = "bad other-lang";
        q.textContent = answer.message_other;
        input.setAttribute("aria-invalid", "true");
        out.appendChild(p);
        out.appendChild(q);
      }
    }).catch(function () { /* the server checks again on "Next" */ });
  }
  // The queue page's waiting list is fetched again every few seconds: a ticket taken at the kiosk shows up
  // without a reload. A failed fetch (the web process restarting) keeps the list and tries again.
  function refreshWaiting(section) {
    var url = section.getAttribute("data-refresh");
    setInterval(function () {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text();
      }).then(function (html) {
        var current = document.getElementById("waiting");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#waiting");
        if (current && fresh && fresh.innerHTML !== current.innerHTML) current.replaceWith(fresh);
      }).catch(function () { /* next time */ });
    }, Number(section.getAttribute("data-refresh-ms") || 3000));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var waiting = document.getElementById("waiting");
    if (waiting && waiting.getAttribute("data-refresh")) refreshWaiting(waiting);
    document.querySelectorAll("[data-check]").forEach(function (input) {
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { check(input); }, 250);
      });
      input.addEventListener("blur", function () { check(input); });
    });
  });
})();
