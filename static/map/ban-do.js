/* The national map of /ban-do (templates/pages/ban-do.html): counts and points from
 * /-/map/<db>/<table>.json (plugins/map_grid.py) drawn on a canvas, and the list beside the map that
 * carries every visible point or cluster as a link or a button. The page gives the database name
 * (data-db) and its words in the page's language (#map-words). */
import { rowKey } from "./tilde.js";
(function () {
  "use strict";
  var box = document.getElementById("map"), list = document.getElementById("map-list"), status = document.getElementById("map-status");
  var table = box.dataset.table, base = box.dataset.base || "/", db = box.dataset.db;
  var W = JSON.parse(document.getElementById("map-words").textContent);
  function say(text, values) { return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k]; }); }
  var filters = {};
  if (box.dataset.province) filters.province_code = box.dataset.province;
  if (box.dataset.year) filters.year = box.dataset.year;
  var endpoint = base + "-/map/" + encodeURIComponent(db) + "/" + table + ".json";
  var COLOR = table === "violations" ? { stroke: "#7a1f1f", fill: "#c0392b" } : { stroke: "#0f4d22", fill: "#1b7f3b" };
  var PRECISION = W.precision;   // geo_precision -> words, from templates/_site.html (one wording)
  var QUALIFIER = { "gần": "gần", "hơn": "hơn", "trên": "trên", "khoảng": "khoảng", "chừng": "chừng", "hàng": "hàng" };
  var map = L.map("map", { preferCanvas: true, minZoom: 4, maxZoom: 18 });
  L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>' }).addTo(map);
  var renderer = L.canvas({ padding: 0.3 }), layer = L.layerGroup().addTo(map);
  var cache = new Map(), controller = null, timer = null;
  var state = window.__banDo = { map: map, renders: 0, mode: null };

  function fmt(n) { return Number(n).toLocaleString("vi-VN"); }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function date(d) { // stored at the source's precision: 2025, 2025-01, 2025-01-15 -> dd/mm/yyyy as far as known
    if (!d) return ""; var p = String(d).split("-"); return p.reverse().join("/");
  }
  function record(data, p) {
    var r = { pk: p[0], lat: p[1], lon: p[2], name: p[3] == null ? String(p[0]) : String(p[3]) };
    (data.details || []).forEach(function (c, i) { r[c] = p[4 + i]; });
    r.href = base + encodeURIComponent(db) + "/" + table + "/" + rowKey(p[0]);
    return r;
  }
  function what(r) { return table === "violations" ? (r.violation || r.sanction || "") : [r.scheme, r.rating_text || r.rating].filter(Boolean).join(": "); }
  function when(r) { return table === "violations" ? (r.decided ? W.decided + " " + date(r.decided) : "")
                                                   : (r.valid_from ? W.from + " " + date(r.valid_from) : ""); }
  function fine(r) {
    if (table !== "violations") return "";
    if (r.fine_vnd != null) return W.fine + ": " + (r.fine_qualifier ? (QUALIFIER[r.fine_qualifier] || r.fine_qualifier) + " " : "") + fmt(r.fine_vnd) + " " + W.dong;
    return r.fine_text ? W.fine + ": " + r.fine_text : "";
  }
  function precision(r) { var w = PRECISION[r.geo_precision]; return w ? W.position + ": " + w : ""; }
  function popupFor(group) {
    var dl = el("dl", null, "mg-popup");
    group.slice(0, 10).forEach(function (r) {
      var dt = el("dt"), a = el("a", r.name); a.href = r.href; dt.appendChild(a); dl.appendChild(dt);
      [what(r), when(r), fine(r), precision(r)].forEach(function (t) { if (t) dl.appendChild(el("dd", t)); });
    });
    if (group.length > 10) dl.appendChild(el("dd", "… " + say(W.more, { n: fmt(group.length - 10) })));
    return dl;
  }
  function style(r) {
    var p = r.geo_precision;
    return { renderer: renderer, radius: 7, weight: p === "point" ? 1 : 3, color: p === "point" ? "#1d2429" : COLOR.stroke,
      dashArray: p === "district" ? "4 3" : p === "province" ? "1 4" : null,
      fillColor: COLOR.fill, fillOpacity: p === "point" ? 0.95 : p === "province" ? 0.25 : 0.6 };
  }
  function draw(data) {
    layer.clearLayers();
    list.textContent = "";
    if (data.mode === "points") {
      var groups = new Map();
      data.points.forEach(function (p) {
        var key = p[1] + "," + p[2];
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(record(data, p));
      });
      groups.forEach(function (group) {
        var r = group[0];
        var m = L.circleMarker([r.lat, r.lon], style(r));
        function open() { L.popup({ maxHeight: 300 }).setLatLng([r.lat, r.lon]).setContent(popupFor(group)).openOn(map); }
        m.on("click", open);
        layer.addLayer(m);
        group.forEach(function (row) {
          var li = el("li"), a = el("a", row.name); a.href = row.href; li.appendChild(a);
          [what(row), [when(row), fine(row)].filter(Boolean).join(" · "), precision(row)].forEach(function (t) { if (t) li.appendChild(el("span", t, "meta")); });
          var show = el("button", W.show); show.type = "button"; show.addEventListener("click", open);
          li.appendChild(show);
          list.appendChild(li);
        });
      });
      status.textContent = say(W.in_view, { n: fmt(data.points.length) });
    } else {
      var max = 1;
      data.cells.forEach(function (c) { if (c[2] > max) max = c[2]; });
      data.cells.slice().sort(function (a, b) { return b[2] - a[2]; }).forEach(function (c, i) {
        var circle = L.circleMarker([c[0], c[1]], { renderer: renderer, radius: 6 + 16 * Math.sqrt(c[2] / max), weight: 1,
          color: "#1f3a5f", fillColor: "#3b7dd8", fillOpacity: 0.6 });
        function zoom() { map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, 18)); }
        circle.on("click", zoom);
        layer.addLayer(circle);
        layer.addLayer(L.marker([c[0], c[1]], { interactive: false, keyboard: false,
          icon: L.divIcon({ className: "mg-count", html: fmt(c[2]), iconSize: [60, 20] }) }));
        if (i < 200) {
          var li = el("li"), b = el("button", say(W.cell, { n: fmt(c[2]), where: c[0].toFixed(2) + ", " + c[1].toFixed(2) }));
          b.type = "button"; b.addEventListener("click", zoom); li.appendChild(b); list.appendChild(li);
        }
      });
      status.textContent = say(W.in_cells, { n: fmt(data.total), cells: fmt(data.cells.length) });
    }
    state.renders += 1; state.mode = data.mode;
    document.body.setAttribute("data-map-ready", String(state.renders));
  }
  function url() {
    var b = map.getBounds().pad(0.1), c = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)).toFixed(3); };
    state.bbox = [c(b.getWest(), -180, 180), c(b.getSouth(), -90, 90), c(b.getEast(), -180, 180), c(b.getNorth(), -90, 90)];
    var q = new URLSearchParams({ zoom: String(map.getZoom()), bbox: state.bbox.join(",") });
    Object.keys(filters).forEach(function (k) { q.set(k, filters[k]); });
    return endpoint + "?" + q.toString();
  }
  function load() {
    var u = url();
    if (cache.has(u)) { draw(cache.get(u)); return; }
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(u, { signal: controller.signal, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (d) { if (!r.ok || !d.ok) throw new Error(d.error || "HTTP " + r.status); return d; }); })
      .then(function (d) { cache.set(u, d); draw(d); })
      .catch(function (e) { if (e.name !== "AbortError") status.textContent = W.error + ": " + e.message; });
  }
  var view = (box.dataset.view || "8.4,102.1,23.4,109.5").split(",").map(Number);
  map.fitBounds([[view[0], view[1]], [view[2], view[3]]]);
  map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 120); });
  load();
})();
