// Copy buttons of the finance office's pages: <button data-copy="ID" data-status="ID"
// data-done="…" data-failed="…">. Copies the text (or a textarea's value) of element ID and
// says so in the status element. Served from /static (CSP: script-src 'self', nothing inline).
(function () {
  "use strict";
  function say(btn, ok) {
    var s = document.getElementById(btn.getAttribute("data-status"));
    if (s) { s.textContent = btn.getAttribute(ok ? "data-done" : "data-failed"); }
  }
  function byCommand(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "offscreen";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-copy]") : null;
    if (!btn) { return; }
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (!src) { return; }
    var text = src.tagName === "TEXTAREA" ? src.value : src.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(btn, true); },
        function () { say(btn, byCommand(text)); }
      );
    } else {
      say(btn, byCommand(text));
    }
  });
})();
