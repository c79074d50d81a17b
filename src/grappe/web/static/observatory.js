// The observatory's map: Leaflet without tiles, outlines and candidates as GeoJSON from this server.
// Everything it needs is in the data-* attributes of the page's [data-map] element (no inline script).
(function () {
  "use strict";

  // Radius (pixels) of the circle of the territory with the largest mass, and of the smallest.
  var MAX_RADIUS = 26;
  var MIN_RADIUS = 3;
  // Closest zoom when the view fits the candidates (a single commune would fill the screen).
  var MAX_FIT_ZOOM = 9;

  function boundsOf(area) {
    return L.latLngBounds([area.south, area.west], [area.north, area.east]);
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + " : " + response.status);
      }
      return response.json();
    });
  }

  function outlineLayer(outlines) {
    return L.geoJSON(outlines, { interactive: false, className: "map__outline" });
  }

  function circleLayer(points, largest) {
    return L.geoJSON(points, {
      pointToLayer: function (feature, latlng) {
        var share = largest > 0 ? Math.sqrt(feature.properties.mass / largest) : 0;
        var circle = L.circleMarker(latlng, {
          radius: Math.max(MIN_RADIUS, MAX_RADIUS * share),
          className: feature.properties.strong ? "map__circle map__circle--strong" : "map__circle",
        });
        var label = document.createElement("span");
        label.textContent = feature.properties.label; // text, never HTML
        circle.bindTooltip(label);
        circle.on("click", function () {
          window.location.assign(feature.properties.href);
        });
        return circle;
      },
    });
  }

  function staticMap(element) {
    return L.map(element, {
      zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25,
    });
  }

  function start(container) {
    if (container.dataset.started) {
      return;
    }
    container.dataset.started = "true";
    var insets = JSON.parse(container.dataset.insets);
    var insideInset = function (latlng) {
      return insets.some(function (area) { return boundsOf(area).contains(latlng); });
    };
    container.hidden = false;
    var fallback = container.parentElement.querySelector(".map-fallback");
    if (fallback) {
      fallback.hidden = true;
    }
    var main = L.map(container.querySelector(".map__main"), { zoomSnap: 0.25 });
    main.attributionControl.setPrefix(false).addAttribution(container.dataset.attribution);
    var small = Array.prototype.map.call(container.querySelectorAll("[data-inset]"), function (element) {
      var map = staticMap(element);
      map.fitBounds(boundsOf(insets[Number(element.dataset.inset)]));
      return map;
    });
    Promise.all([getJson(container.dataset.outlines), getJson(container.dataset.points)]).then(function (data) {
      var outlines = data[0];
      var points = data[1];
      var largest = points.features.reduce(function (top, f) { return Math.max(top, f.properties.mass); }, 0);
      var mainland = L.latLngBounds([]);
      outlineLayer(outlines).eachLayer(function (layer) {
        var centre = layer.getBounds().getCenter();
        if (!insideInset(centre)) {
          mainland.extend(layer.getBounds());
        }
      });
      var candidates = L.latLngBounds([]);
      points.features.forEach(function (f) {
        var latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
        if (!insideInset(latlng)) {
          candidates.extend(latlng);
        }
      });
      if (candidates.isValid()) {
        main.fitBounds(candidates.pad(0.2), { maxZoom: MAX_FIT_ZOOM });
      } else {
        main.fitBounds(mainland);
      }
      [main].concat(small).forEach(function (map) {
        outlineLayer(outlines).addTo(map);
        circleLayer(points, largest).addTo(map);
      });
    }).catch(function (error) {
      container.hidden = true;
      if (fallback) {
        fallback.hidden = false;
      }
      console.warn("carte indisponible", error);
    });
  }

  function startAll() {
    if (!window.L) {
      return;
    }
    document.querySelectorAll("[data-map]").forEach(start);
  }

  document.addEventListener("DOMContentLoaded", startAll);
  // A boosted link (pagination, sorting) swaps the page body: start the new map.
  document.addEventListener("htmx:afterSettle", startAll);
})();
