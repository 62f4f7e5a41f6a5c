// Optional: the timeline figure reads without it (every mark is a link named by its title and date).
// With it, a mark's title and date show in a caption above the figure when the mark is focused, pointed at or
// first touched (a second touch follows the link), and on a narrow screen the figure opens at its busiest years.
(function () {
  "use strict";
  function init() {
    var figure = document.getElementById("timeline-figure");
    var caption = document.getElementById("timeline-caption");
    if (!figure || !caption) { return; }
    var svg = figure.querySelector("svg");
    var chosen = null;
    var touched = false;
    function show(link) {
      if (chosen) { chosen.classList.remove("chosen"); }
      chosen = link;
      link.classList.add("chosen");
      caption.textContent = "";
      var a = document.createElement("a");
      a.href = link.getAttribute("href");
      a.textContent = link.getAttribute("data-title");
      caption.appendChild(a);
      caption.hidden = false;
    }
    function markOf(target) {
      return target && target.closest ? target.closest("a[data-title]") : null;
    }
    figure.addEventListener("focusin", function (event) { var link = markOf(event.target); if (link) { show(link); } });
    figure.addEventListener("mouseover", function (event) { var link = markOf(event.target); if (link) { show(link); } });
    figure.addEventListener("touchstart", function () { touched = true; }, { passive: true });
    figure.addEventListener("click", function (event) {
      var link = markOf(event.target);
      if (!link) { return; }
      if (touched && link !== chosen) {  // a first touch shows the title; the second opens the event
        event.preventDefault();
        show(link);
      }
      touched = false;
    });
    if (svg && figure.scrollWidth > figure.clientWidth + 1) {
      var at = parseFloat(svg.getAttribute("data-first-view") || "0");
      figure.scrollLeft = Math.max(0, at * figure.scrollWidth - 8);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
