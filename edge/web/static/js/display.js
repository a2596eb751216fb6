// Now-serving screen: live updates over server-sent events, a chime on every new call or recall.
"use strict";
(function () {
  var eastern = window.edgeEastern;
  function el(tag, cls, text, attrs) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  var audio = null;
  function chime() {
    // Two soft tones made on the spot: no sound file, nothing to download.
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [[880, 0], [660, 0.35]].forEach(function (tone) {
        var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime + tone[1];
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.4, t + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.6);
        osc.connect(gain).connect(audio.destination);
        osc.start(t);
        osc.stop(t + 0.65);
      });
    } catch (e) { /* no audio device: the screen still updates */ }
    document.body.setAttribute("data-chimes", String(+(document.body.getAttribute("data-chimes") || 0) + 1));
  }

  // The number as on the slip: the Arabic letter and digits (أ٠٠٢), then the Latin form (A002).
  function ticket(tag, c) {
    var out = el(tag, "ticket");
    out.appendChild(el("bdi", "", c.number_ar, { lang: "ar", dir: "rtl" }));
    out.appendChild(document.createTextNode(" "));
    out.appendChild(el("bdi", "latin", c.number, { lang: "en", dir: "ltr" }));
    return out;
  }

  function render(state) {
    var counters = document.getElementById("counters");
    counters.textContent = "";
    if (!state.counters.length) {
      var empty = el("p", "empty", undefined, { id: "empty" });
      empty.appendChild(el("span", "", "لا يوجد نداء الآن", { lang: "ar" }));
      empty.appendChild(el("br"));
      empty.appendChild(el("span", "", "No one is being called", { lang: "en", dir: "ltr" }));
      counters.appendChild(empty);
    }
    var newest = state.recent.length ? state.recent[0].number : null;
    state.counters.forEach(function (c) {
      var card = el("div", "counter-card" + (c.number === newest ? " fresh" : ""), undefined, { "data-number": c.number });
      card.appendChild(ticket("p", c));
      var to = el("p", "to");
      to.appendChild(el("span", "", "شباك " + eastern(c.counter), { lang: "ar" }));
      to.appendChild(document.createTextNode(" "));
      to.appendChild(el("span", "", "Counter " + c.counter, { lang: "en", dir: "ltr" }));
      card.appendChild(to);
      card.appendChild(el("p", "cat", c.category_ar, { lang: "ar" }));
      counters.appendChild(card);
    });
    var recent = document.getElementById("recent");
    recent.textContent = "";
    state.recent.forEach(function (c) {
      var li = el("li");
      li.appendChild(ticket("span", c));
      li.appendChild(el("span", "call-arrow", " ← ", { "aria-hidden": "true" }));
      li.appendChild(el("span", "", "شباك " + eastern(c.counter), { lang: "ar" }));
      recent.appendChild(li);
    });
  }

  // What rings the chime: a ticket called to a counter, or called again (recall count goes up).
  function key(c) { return c.number + "@" + c.counter + "#" + c.recalls + "/" + c.called_at; }
  function calls(state) {
    return state.counters.filter(function (c) { return c.state === "called"; }).map(key);
  }

  // Each new call is spoken after the chime ("الرقم أَلِف 2، إلى الشباك رقم 3"), one after another; the sound
  // is made on the van (GET /display/call.wav). No voice configured, or none to be had: the chime alone.
  var voice = document.body.getAttribute("data-voice"), spoken = [], speaking = false;
  function speakNext() {
    if (speaking || !spoken.length) return;
    speaking = true;
    var call = spoken.shift();
    var sound = new Audio(voice + "?number=" + encodeURIComponent(call.number) + "&counter=" + call.counter);
    function done() { speaking = false; setTimeout(speakNext, 300); }
    sound.addEventListener("ended", done);
    sound.addEventListener("error", done);
    document.body.setAttribute("data-spoken", String(+(document.body.getAttribute("data-spoken") || 0) + 1));
    var playing = sound.play();
    if (playing && playing.catch) playing.catch(done);
  }

  var known = null;
  function onState(event) {
    var state = JSON.parse(event.data);
    var now = calls(state);
    var fresh = known === null ? [] : state.counters.filter(function (c) {
      return c.state === "called" && known.indexOf(key(c)) < 0;
    });
    if (fresh.length) {
      chime();
      if (voice) {
        fresh.forEach(function (c) { spoken.push(c); });
        setTimeout(speakNext, 900);  // after the chime's two tones
      }
    }
    known = now;
    render(state);
    document.body.setAttribute("data-updated", String(Date.now()));
  }

  // The van's time is Cairo's, whatever time zone the TV's browser was left in.
  var clockFormat = null;
  try {
    clockFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false,
                                                     timeZone: "Africa/Cairo" });
  } catch (e) { clockFormat = null; }
  function tick() {
    var d = new Date(), hh, mm;
    if (clockFormat) {
      var parts = clockFormat.format(d).split(":");
      hh = parts[0]; mm = parts[1];
    } else {
      hh = String(d.getHours()).padStart(2, "0"); mm = String(d.getMinutes()).padStart(2, "0");
    }
    document.getElementById("clock").textContent = eastern(hh + ":" + mm) + "  ·  " + hh + ":" + mm;
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 10000);
    var source = new EventSource(document.body.getAttribute("data-events"));
    source.addEventListener("state", onState);
  });
})();
