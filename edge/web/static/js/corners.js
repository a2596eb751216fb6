// The corner step: four handles over the photo of a page, dragged with a finger or the mouse, or moved with the
// arrow keys; the hidden "corners" field follows them (eight fractions of the photo: x,y for top-left, top-right,
// bottom-right, bottom-left), and the straightened page beside the photo is drawn again when a handle is let go.
// Without this script the form sends the corners the finder proposed.
"use strict";
(function () {
  function parse(text) {
    var v = text.split(",").map(Number);
    return [[v[0], v[1]], [v[2], v[3]], [v[4], v[5]], [v[6], v[7]]];
  }
  function clamp(v) { return Math.min(1, Math.max(0, v)); }

  document.addEventListener("DOMContentLoaded", function () {
    var svg = document.getElementById("corners-svg");
    if (!svg) { return; }
    var input = document.getElementById("corners");
    var straight = document.getElementById("corners-straight");
    var bad = document.getElementById("corners-bad");
    var reset = document.getElementById("corners-reset");
    var outline = svg.querySelector(".corners-outline");
    var handles = Array.prototype.slice.call(svg.querySelectorAll(".corner"));
    var W = svg.viewBox.baseVal.width, H = svg.viewBox.baseVal.height;
    var big = Number(svg.getAttribute("data-step-big")), small = Number(svg.getAttribute("data-step-small"));
    var found = input.getAttribute("data-found");
    var pts = parse(input.value);
    var timer = null;

    function draw() {
      handles.forEach(function (h, i) {
        h.setAttribute("cx", (pts[i][0] * (W - 1)).toFixed(1));
        h.setAttribute("cy", (pts[i][1] * (H - 1)).toFixed(1));
      });
      outline.setAttribute("points", pts.map(function (p) {
        return (p[0] * (W - 1)).toFixed(1) + "," + (p[1] * (H - 1)).toFixed(1);
      }).join(" "));
      input.value = pts.map(function (p) { return p[0].toFixed(4) + "," + p[1].toFixed(4); }).join(",");
      reset.hidden = input.value === found;
    }
    function redraw(now) {
      clearTimeout(timer);
      timer = setTimeout(function () {
        straight.src = straight.getAttribute("data-base") + "?corners=" + encodeURIComponent(input.value);
      }, now ? 0 : 120);
    }
    // The server answers 422 (no picture) when the dots outline no page: say so instead of a broken image.
    // The picture is hidden meanwhile (no broken-image icon), and comes back with the next page the dots outline.
    straight.addEventListener("error", function () { bad.hidden = false; straight.style.visibility = "hidden"; });
    straight.addEventListener("load", function () { bad.hidden = true; straight.style.visibility = ""; });

    function toPhoto(event) {
      var box = svg.getBoundingClientRect();
      return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
    }
    handles.forEach(function (h, i) {
      h.addEventListener("pointerdown", function (event) {
        event.preventDefault();
        h.setPointerCapture(event.pointerId);
        h.classList.add("dragging");
        h.focus();
      });
      h.addEventListener("pointermove", function (event) {
        if (!h.hasPointerCapture(event.pointerId)) { return; }
        pts[i] = toPhoto(event);
        draw();
      });
      function release(event) {
        if (!h.hasPointerCapture(event.pointerId)) { return; }
        h.releasePointerCapture(event.pointerId);
        h.classList.remove("dragging");
        redraw(true);
      }
      h.addEventListener("pointerup", release);
      h.addEventListener("pointercancel", release);
      h.addEventListener("keydown", function (event) {
        var step = event.shiftKey ? small : big;
        var move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
        if (!move) { return; }
        event.preventDefault();
        pts[i] = [clamp(pts[i][0] + move[0]), clamp(pts[i][1] + move[1])];
        draw();
        redraw(false);
      });
    });
    reset.addEventListener("click", function () {
      pts = parse(found);
      draw();
      redraw(true);
    });
    draw();
  });
})();
