// Optional: the event form's fields follow its type as it changes.
// Without it the form works in two steps: "Continue" shows the chosen type's fields (nothing is saved).
(function () {
  "use strict";
  function init() {
    var form = document.querySelector("form[data-typed]");
    if (!form) { return; }
    var select = form.querySelector("select[name=type]");
    var shown = form.querySelector("input[name=shown_type]");
    var waiting = form.querySelector("[data-when-no-type]");
    var submit = form.querySelector("input[type=submit][data-label]");
    var groups = form.querySelectorAll("[data-types]");
    function follow() {
      var type = select ? select.value : shown.value;
      for (var i = 0; i < groups.length; i++) {
        var on = type !== "" && (" " + groups[i].getAttribute("data-types") + " ").indexOf(" " + type + " ") >= 0;
        groups[i].hidden = !on;
        var inputs = groups[i].querySelectorAll("input, select, textarea");
        for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !on; }
      }
      if (waiting) { waiting.hidden = type !== ""; }
      shown.value = type;  // the server now knows the page showed this type's fields
    }
    if (submit) { submit.value = submit.getAttribute("data-label"); }
    if (select) { select.addEventListener("change", follow); }
    follow();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
