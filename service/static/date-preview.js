// Optional: show how a typed date will be read while the editor types.
// The form works without it (the "Preview the date" button does the same on the server).
(function () {
  "use strict";
  function init() {
    var input = document.getElementById("occurred");
    var output = document.getElementById("date-preview");
    if (!input || !output || !window.fetch) { return; }
    var timer = null;
    function show(text) { output.textContent = text; }
    function ask() {
      var text = input.value.trim();
      if (!text) { show(""); return; }
      fetch("/dates/preview?text=" + encodeURIComponent(text), { headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
        .then(function (result) {
          if (input.value.trim() !== text) { return; }
          var body = result[1];
          if (result[0]) {
            show("Read as " + body.words + " (" + body.precision + "); EDTF " + body.edtf);
          } else {
            show(body.error.replace(/^text: /, ""));
          }
        })
        .catch(function () { /* the server-side preview button still works */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
