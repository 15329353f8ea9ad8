/* Aggregate map: asks /-/map/<table>.json (plugins/map_grid.py) for the visible box at the current
 * zoom, and draws counts per cell, or the rows themselves once the box holds few enough of them.
 *
 * URL parameters: table (default violations), db (optional), province_code / ward_code (filters),
 * by=grid|province|ward, tiles=none|osm|<URL template> (default osm; `none` draws no basemap, for
 * offline use and the benchmark).
 *
 * Rendering: circles on one canvas (no DOM element per point), count labels only when few cells are
 * shown, popups built on click from the row's text (never as HTML). Requests are debounced and a
 * request still in flight when the map moves again is cancelled; answers are cached per URL.
 */
import { rowKey } from "./tilde.js";   // Datasette's tilde encoding: one copy, shared with /ban-do

(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var table = params.get("table") || "violations";
  var database = params.get("db") || "";
  var by = params.get("by") || "grid";
  var filters = {};
  ["province_code", "ward_code"].forEach(function (k) { if (params.get(k)) filters[k] = params.get(k); });
  var endpoint = "/-/map/" + (database ? encodeURIComponent(database) + "/" : "") + encodeURIComponent(table) + ".json";
  var status = document.getElementById("status");
  document.getElementById("title").textContent = "Bản đồ · Map: " + table +
    Object.keys(filters).map(function (k) { return " · " + k + "=" + filters[k]; }).join("");

  var map = L.map("map", { preferCanvas: true, minZoom: 3, maxZoom: 18, worldCopyJump: false });
  var tiles = params.get("tiles") || "osm";
  if (tiles !== "none") {
    var template = tiles === "osm" ? "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png" : tiles;
    L.tileLayer(template, { maxZoom: 19, attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>' }).addTo(map);
  }
  var renderer = L.canvas({ padding: 0.3 });
  var layer = L.layerGroup().addTo(map);
  var cache = new Map();
  var controller = null;
  var timer = null;
  // What the page did, for tests and bench/map.py (renders counted once painted).
  var state = window.__mapGrid = { map: map, renders: 0, requests: 0, mode: null, total: null, items: 0, lastRender: null };

  function fmt(n) { return Number(n).toLocaleString("vi-VN"); }

  function rowLink(data, pk) {
    var a = document.createElement("a");
    var key = rowKey(pk);
    a.href = "/" + encodeURIComponent(data.database) + "/" + encodeURIComponent(data.table) + "/" + key;
    return a;
  }

  function popupFor(data, group) {
    // Many rows share a position (a ward's or province's centroid): list them, 20 at most.
    var box = document.createElement("dl");
    box.className = "mg-popup";
    group.slice(0, 20).forEach(function (p) {
      var dt = document.createElement("dt");
      var a = rowLink(data, p[0]);
      a.textContent = p[3] == null ? String(p[0]) : String(p[3]);
      dt.appendChild(a);
      box.appendChild(dt);
    });
    if (group.length > 20) {
      var more = document.createElement("dd");
      more.textContent = "… " + fmt(group.length - 20) + " dòng nữa · more rows (phóng to · zoom in)";
      box.appendChild(more);
    }
    return box;
  }

  function radius(n, max) { return 5 + 17 * Math.sqrt(n / Math.max(1, max)); }

  function draw(data) {
    layer.clearLayers();
    var items = 0;
    if (data.mode === "points") {
      var groups = new Map();
      data.points.forEach(function (p) {
        var key = p[1] + "," + p[2];
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(p);
      });
      groups.forEach(function (group) {
        var p = group[0];
        var m = L.circleMarker([p[1], p[2]], { renderer: renderer, radius: Math.min(4 + Math.sqrt(group.length), 14), weight: 1,
          color: "#7a1f1f", fillColor: "#d9534f", fillOpacity: 0.8 });
        m.on("click", function () { L.popup({ maxHeight: 300 }).setLatLng([p[1], p[2]]).setContent(popupFor(data, group)).openOn(map); });
        layer.addLayer(m);
      });
      items = data.points.length;
    } else {
      var list = data.mode === "cells" ? data.cells : data.units;
      var max = 1;
      list.forEach(function (c) { if (c[2] > max) max = c[2]; });
      var labels = list.length <= 300;
      list.forEach(function (c) {
        var circle = L.circleMarker([c[0], c[1]], { renderer: renderer, radius: radius(c[2], max), weight: 1, color: "#1f3a5f", fillColor: "#3b7dd8", fillOpacity: 0.55 });
        circle.on("click", function () {
          if (data.mode === "cells") map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, 18));
          else L.popup().setLatLng([c[0], c[1]]).setContent(document.createTextNode((c[4] || c[3]) + ": " + fmt(c[2]))).openOn(map);
        });
        layer.addLayer(circle);
        if (labels) {
          // The label is a number we format ourselves (digits and separators only), never data text.
          layer.addLayer(L.marker([c[0], c[1]], { interactive: false, keyboard: false,
            icon: L.divIcon({ className: "mg-count", html: fmt(Math.round(c[2])), iconSize: [60, 20] }) }));
        }
      });
      items = list.length;
    }
    status.textContent = fmt(data.total) + " dòng trong khung nhìn · rows in view · " +
      (data.mode === "points" ? "điểm · points" : data.mode === "cells" ? "ô lưới · grid cells" : data.mode) +
      " · z" + data.zoom + " · " + fmt(data.rows_with_coordinates) + " dòng có tọa độ · rows with coordinates";
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        state.renders += 1;
        state.mode = data.mode;
        state.total = data.total;
        state.items = items;
        state.lastRender = performance.now();
        document.body.setAttribute("data-map-ready", String(state.renders));
        window.dispatchEvent(new CustomEvent("mapgrid:rendered", { detail: { mode: data.mode, items: items } }));
      });
    });
  }

  function url() {
    var b = map.getBounds().pad(0.2);
    var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
    var bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(3); }).join(",");
    var q = new URLSearchParams({ zoom: String(map.getZoom()), bbox: bbox });
    if (by !== "grid") q.set("by", by);
    Object.keys(filters).forEach(function (k) { q.set(k, filters[k]); });
    return endpoint + "?" + q.toString();
  }

  function load() {
    var u = url();
    if (cache.has(u)) { draw(cache.get(u)); return; }
    if (controller) controller.abort();
    controller = new AbortController();
    state.requests += 1;
    status.textContent = "Đang tải… · Loading…";
    fetch(u, { signal: controller.signal, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok || !data.ok) throw new Error(data.error || ("HTTP " + r.status));
          return data;
        });
      })
      .then(function (data) { cache.set(u, data); draw(data); })
      .catch(function (e) { if (e.name !== "AbortError") status.textContent = "Lỗi · Error: " + e.message; });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(load, 120);
  }

  map.fitBounds([[8.3, 102.1], [23.4, 109.5]]);
  map.on("moveend", schedule);
  load();
})();
