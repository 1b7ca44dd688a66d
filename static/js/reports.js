// Draws the dashboard's two charts (Chart.js, served from static/vendor) from the JSON the
// page carries: the charted figure per group (bars) and per week (line). The tables below
// the charts hold the exact figures.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  function draw(id, type, labels, values) {
    var canvas = document.getElementById(id);
    canvas.dataset.points = String(values.length);
    new Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: [{ label: data.label, data: values, spanGaps: true }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 scales: { y: { beginAtZero: true } } }
    });
  }
  draw("chart-groups", "bar", data.groups, data.values);
  draw("chart-weeks", "line", data.weeks, data.weekly);
  document.body.dataset.chartsDrawn = "1";
}());
