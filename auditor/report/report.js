// Filters for the reviewers' page: rule, agent, competition, verdict.
// The state lives in the URL hash (#rule=...&agent=...), so a filtered view can be
// linked to and reloaded. Only attributes and the `hidden` property are touched:
// nothing from the audited run is ever parsed as HTML here.
(function () {
  "use strict";
  var KEYS = ["rule", "agent", "competition", "verdict"];
  var body = document.body;

  window.addEventListener("error", function (ev) {
    body.setAttribute("data-js-error", String(ev.message || ev));
  });

  function current() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var state = {};
    KEYS.forEach(function (k) { state[k] = params.get(k) || ""; });
    return state;
  }

  function select(key) { return document.getElementById("f-" + key); }

  function hasOption(sel, value) {
    for (var i = 0; i < sel.options.length; i++) { if (sel.options[i].value === value) { return true; } }
    return false;
  }

  function episodeMatches(ep, state) {
    if (state.agent && ep.getAttribute("data-agent") !== state.agent) { return false; }
    if (state.competition && ep.getAttribute("data-competition") !== state.competition) { return false; }
    if (state.verdict && ep.getAttribute("data-verdict") !== state.verdict) { return false; }
    if (state.rule) {
      var rules = (ep.getAttribute("data-rules") || "").split(" ");
      if (rules.indexOf(state.rule) < 0) { return false; }
    }
    return true;
  }

  function apply(state) {
    var shown = 0, total = 0;
    document.querySelectorAll("[data-episode]").forEach(function (ep) {
      total += 1;
      var visible = episodeMatches(ep, state);
      ep.hidden = !visible;
      if (visible) { shown += 1; }
      ep.querySelectorAll(".flag").forEach(function (fl) {
        fl.hidden = Boolean(state.rule) && fl.getAttribute("data-rule") !== state.rule;
      });
    });
    document.querySelectorAll("[data-group]").forEach(function (group) {
      group.hidden = group.querySelector("[data-episode]:not([hidden])") === null;
    });
    KEYS.forEach(function (k) {
      var sel = select(k);
      if (sel && hasOption(sel, state[k])) { sel.value = state[k]; }
    });
    var counter = document.getElementById("shown");
    counter.textContent = "showing " + shown + " of " + total + " episodes";
    counter.setAttribute("data-shown", String(shown));
    body.setAttribute("data-filters", KEYS.map(function (k) { return k + "=" + state[k]; }).join("&"));
  }

  function fromSelects() {
    var params = new URLSearchParams();
    KEYS.forEach(function (k) { var v = select(k).value; if (v) { params.set(k, v); } });
    var hash = params.toString();
    // replaceState fires no hashchange: apply now, so the view and the URL agree at once
    history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search);
    apply(current());
  }

  KEYS.forEach(function (k) { select(k).addEventListener("change", fromSelects); });
  document.getElementById("f-reset").addEventListener("click", function () {
    KEYS.forEach(function (k) { select(k).value = ""; });
    fromSelects();
  });
  window.addEventListener("hashchange", function () { apply(current()); });
  apply(current());
  body.setAttribute("data-ready", "1");
})();
