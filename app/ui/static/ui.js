/* Progressive enhancement only: every page works without this file.
   - citizen form: asks for the result fragment and swaps it in without a page load, then focuses it;
   - print button on the status card;
   - dashboard: refreshes its panel every 60 s (paused while the tab is hidden). */
(function () {
  "use strict";

  function bindPrint(root) {
    root.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function enhanceInquiry() {
    var form = document.getElementById("inquiry-form");
    var region = document.getElementById("result-region");
    if (!form || !region || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      var data = new FormData(form);
      if (!String(data.get("reference") || "").trim() || !String(data.get("verifier") || "").trim()) {
        return; /* let the server re-render the form with the field messages */
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { "X-UI-Fragment": "1" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.text();
      }).then(function (html) {
        region.innerHTML = html; /* server-rendered, autoescaped fragment from our own origin */
        bindPrint(region);
        var target = region.querySelector("#result-title") || region.querySelector("[role=alert]");
        if (target) {
          if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
          target.focus();
        }
      }).catch(function () {
        form.submit(); /* network trouble: fall back to the plain form post */
      }).finally(function () {
        button.removeAttribute("aria-busy");
        button.disabled = false;
      });
    });
  }

  function refreshDashboard() {
    var panel = document.getElementById("dash-panel");
    if (!panel || !window.fetch) return;
    var url = panel.getAttribute("data-refresh-url");
    var seconds = parseInt(panel.getAttribute("data-refresh-seconds") || "60", 10);
    function tick() {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.text();
      }).then(function (html) {
        if (html === null) return;
        var focused = document.activeElement && document.activeElement.id;
        panel.innerHTML = html;
        if (focused) { var again = document.getElementById(focused); if (again) again.focus(); }
      }).catch(function () { /* keep the last numbers; the next tick tries again */ });
    }
    window.setInterval(tick, seconds * 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindPrint(document);
    enhanceInquiry();
    refreshDashboard();
  });
})();
