/* The verdict board on the ledger page: filter claims by source, verdict, certainty and type, and sort them.
   Plain JavaScript shipped with the site (nothing remote); native <select> and <button> elements, so it works
   from the keyboard. Does nothing on pages without a .ledger-board table. */
(function () {
  "use strict";
  function init() {
    var table = document.querySelector("table.ledger-board");
    if (!table) { return; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = ["source", "verdict", "certainty", "type"];
    var bar = document.createElement("div");
    bar.className = "ledger-filters";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Filter and sort the claims");
    var selects = {};
    keys.forEach(function (key) {
      var values = [];
      rows.forEach(function (r) { var v = r.dataset[key]; if (values.indexOf(v) < 0) { values.push(v); } });
      values.sort();
      var label = document.createElement("label");
      label.textContent = key + " ";
      var select = document.createElement("select");
      select.setAttribute("data-filter", key);
      var all = document.createElement("option");
      all.value = ""; all.textContent = "all";
      select.appendChild(all);
      values.forEach(function (v) {
        var o = document.createElement("option"); o.value = v; o.textContent = v || "(none)"; select.appendChild(o);
      });
      select.addEventListener("change", apply);
      label.appendChild(select);
      bar.appendChild(label);
      selects[key] = select;
    });
    var count = document.createElement("span");
    count.className = "ledger-count";
    count.setAttribute("aria-live", "polite");
    [["id", "claim id"], ["robustness", "robustness"], ["verdict", "verdict"]].forEach(function (pair) {
      var b = document.createElement("button");
      b.type = "button"; b.textContent = "sort by " + pair[1]; b.setAttribute("data-sort", pair[0]);
      b.addEventListener("click", function () { sortBy(pair[0]); });
      bar.appendChild(b);
    });
    bar.appendChild(count);
    table.parentNode.insertBefore(bar, table);
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = keys.every(function (k) { return !selects[k].value || r.dataset[k] === selects[k].value; });
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown + " of " + rows.length + " claims shown";
    }
    function idKey(r) {
      var id = r.dataset.id || ""; return id.charAt(0) + ("000" + id.slice(1)).slice(-3);
    }
    function sortBy(key) {
      var sorted = rows.slice().sort(function (a, b) {
        if (key === "robustness") { return parseFloat(a.dataset.robustness) - parseFloat(b.dataset.robustness); }
        if (key === "verdict") { return (a.dataset.verdict + idKey(a)).localeCompare(b.dataset.verdict + idKey(b)); }
        return idKey(a).localeCompare(idKey(b));
      });
      sorted.forEach(function (r) { body.appendChild(r); });
    }
    apply();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
