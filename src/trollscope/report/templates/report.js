// Charts (vega-embed, SVG), and sortable, filterable tables: no library beyond the inlined Vega.
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("charts").textContent);
  Object.keys(charts).forEach(function (id) {
    var el = document.getElementById(id);
    vegaEmbed(el, charts[id], { actions: false, renderer: "svg" }).catch(function (err) {
      el.textContent = "This chart could not be drawn: " + err;
      console.error(err);
    });
  });
  function key(td) {
    var v = td.getAttribute("data-sort");
    var n = parseFloat(v);
    return v !== "" && !isNaN(n) && String(n) === v.replace(/\.0+$/, "") ? n : v.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll("th").forEach(function (th, i) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[i]), y = key(b.cells[i]);
          if (x === y) return 0;
          if (x === "") return 1;
          if (y === "") return -1;
          var c = (typeof x === typeof y) ? (x < y ? -1 : 1) : (typeof x === "number" ? -1 : 1);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    var body = input.parentNode.querySelector("tbody");
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(body.rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  });
})();
