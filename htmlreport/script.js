(function () {
  "use strict";
  var table = document.getElementById("hosts");
  if (!table) return;
  var bodies = Array.prototype.slice.call(table.tBodies);
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var nomatch = document.getElementById("nomatch");
  var expand = document.getElementById("expand");
  var texts = bodies.map(function (b) { return b.textContent.toLowerCase().replace(/\s+/g, " "); });

  function applyFilter() {
    var terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    bodies.forEach(function (b, i) {
      var hit = terms.every(function (t) { return texts[i].indexOf(t) >= 0; });
      b.hidden = !hit;
      if (hit) n++;
    });
    shown.textContent = terms.length ? n + " of " + bodies.length + " hosts shown" : "";
    nomatch.hidden = n > 0;
  }
  filter.addEventListener("input", applyFilter);

  // host names sort as people read them: web2 before web10
  var natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  var statusOrder = { failed: 0, unreachable: 1, skipped: 2, ok: 3 };
  function key(b, k) {
    var v = b.getAttribute("data-" + k) || "";
    if (k === "status") return statusOrder.hasOwnProperty(v) ? statusOrder[v] : 9;
    if (k === "reboot") return v === "required" ? 0 : v === "rebooted" ? 1 : 2;
    if (/^-?\d+$/.test(v)) return parseInt(v, 10);
    return v.toLowerCase();
  }
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-key]"));
  heads.forEach(function (th) {
    th.tabIndex = 0;
    th.title = "sort by this column";
    function sort() {
      var k = th.getAttribute("data-key");
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      var order = bodies.map(function (b, i) { return [key(b, k), i, b]; });
      order.sort(function (a, b) {
        var c = typeof a[0] === "string" ? natural.compare(a[0], b[0]) : a[0] - b[0];
        return c !== 0 ? c * dir : a[1] - b[1];
      });
      order.forEach(function (o) { table.appendChild(o[2]); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });

  var details = Array.prototype.slice.call(table.querySelectorAll("details"));
  expand.hidden = false;
  expand.addEventListener("click", function () {
    var open = expand.textContent === "Expand all";
    details.forEach(function (d) { d.open = open; });
    expand.textContent = open ? "Collapse all" : "Expand all";
  });
  var before = [];
  window.addEventListener("beforeprint", function () {
    before = details.map(function (d) { return d.open; });
    details.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    details.forEach(function (d, i) { d.open = before[i]; });
  });
})();
