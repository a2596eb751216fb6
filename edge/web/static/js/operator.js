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
  // Closing a shift: the counted cash is checked as it is typed (the server reads it as it will on "Close"), the
  // difference shown, and the close button's question carries it. An amount that cannot be read asks nothing:
  // the close is refused with the same error. Until an answer comes, the button asks its general question.
  function countedCheck(input) {
    var out = document.getElementById("counted-check");
    var button = document.getElementById(input.getAttribute("data-confirms"));
    var general = button.getAttribute("data-confirm-general") || button.getAttribute("data-confirm");
    button.setAttribute("data-confirm-general", general);
    var lang = document.documentElement.getAttribute("lang") === "en" ? "en" : "ar";
    var other = lang === "en" ? "ar" : "en";
    var timer = null;
    var asked = 0;
    function show(answer) {
      out.textContent = "";
      var kind = !answer.ok ? "bad" : (answer.difference ? "warn" : "ok");
      [answer.message, answer.message_other].forEach(function (text, i) {
        var p = document.createElement("p");
        p.className = kind + (i ? " other-lang" : "");
        p.lang = i ? other : lang;
        p.dir = p.lang === "ar" ? "rtl" : "ltr";
        p.textContent = text;
        out.appendChild(p);
      });
      if (answer.ok) {
        input.removeAttribute("aria-invalid");
        button.setAttribute("data-confirm", answer.confirm);
      } else {
        input.setAttribute("aria-invalid", "true");
        button.removeAttribute("data-confirm");  // the close refuses it with the same words: nothing to confirm
      }
    }
    // Every change makes earlier answers stale: an answer is shown only for the amount still in the field, so the
    // close never asks about (or skips asking for) an amount the operator has since changed.
    function changed() {
      asked++;
      button.setAttribute("data-confirm", general);
    }
    function ask() {
      var n = asked;
      var text = input.value;
      if (!text.trim()) {  // the browser says the field is needed; nothing to confirm yet
        out.textContent = "";
        button.removeAttribute("data-confirm");
        return;
      }
      fetch(input.getAttribute("data-counted-check"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ text: text })
      }).then(function (r) { return r.json(); }).then(function (answer) {
        if (n === asked && input.value === text) show(answer);
      }).catch(function () { /* the general question stays; the server checks again on "Close" */ });
    }
    input.addEventListener("input", function () {
      changed();
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
    changed();
    ask();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var counted = document.querySelector("[data-counted-check]");
    if (counted) countedCheck(counted);
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
