(function () {
  "use strict";
  // Progressive enhancement: without this script the page lists everything with links.
  function norm(s) {
    s = String(s || "");
    if (s.normalize) s = s.normalize("NFKC");
    return s.toLowerCase().replace(/\s+/g, " ").trim();
  }

  // Filter categories by name (substring match, so Chinese works without word boundaries).
  var box = document.getElementById("filter-box");
  var input = document.getElementById("filter");
  var status = document.getElementById("filter-status");
  var none = document.getElementById("no-match");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#feeds > li[data-name]"));
  if (box && input && rows.length) {
    var names = rows.map(function (r) {
      return norm(r.getAttribute("data-name")) + "\u0000" + norm(r.getAttribute("data-slug"));
    });
    var apply = function () {
      var q = norm(input.value);
      var shown = 0;
      rows.forEach(function (r, i) {
        var hit = !q || names[i].indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) shown++;
      });
      status.textContent = q ? shown + " of " + rows.length + " categories" : "";
      if (none) none.hidden = shown > 0;
    };
    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { input.value = ""; apply(); }
    });
    box.hidden = false;
    if (input.value) apply();
  }

  // Copy buttons: the Clipboard API, or select the text so Ctrl+C / long-press copies it.
  function copied(button, label) {
    var was = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", was);
    button.textContent = label;
    button.classList.add("copied");
    setTimeout(function () {
      button.textContent = was;
      button.classList.remove("copied");
    }, 2000);
  }
  function fallback(button, field) {
    field.focus();
    field.select();
    if (field.setSelectionRange) field.setSelectionRange(0, field.value.length);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(button, ok ? "Copied" : "Press Ctrl+C");
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { copied(button, "Copied"); },
        function () { fallback(button, field); }
      );
    } else {
      fallback(button, field);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
    b.hidden = false;
  });
  // A click into an address selects all of it.
  Array.prototype.forEach.call(document.querySelectorAll("input.url"), function (f) {
    f.addEventListener("focus", function () { f.select(); });
  });
})();
