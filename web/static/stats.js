// The statistics page's charts, drawn with the vendored Apache ECharts
// (static/vendor/echarts) from the figures embedded in the page (#stats-data), the same
// figures as the tables under each chart. Without JavaScript the tables are the page.
(function () {
  "use strict";
  var source = document.getElementById("stats-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var english = document.body.getAttribute("data-lang") === "en";
  var palette = ["#9f1d20", "#1a66d6", "#1a7f37", "#9a6700", "#6f42c1", "#0a7d8c", "#c2570c", "#57606a"];
  var charts = [];

  function size(n) {
    if (n === null || n === undefined) return "—";
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
  }

  function number(n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString(english ? "en" : "zh-CN");
  }

  function format(unit) { return unit === "bytes" ? size : number; }

  function pie(table) {
    var s = table.series[0];
    var items = [];
    table.labels.forEach(function (name, i) {
      if (s.data[i]) items.push({ name: name, value: s.data[i] });
    });
    var fmt = format(s.unit);
    return {
      color: palette,
      tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + fmt(p.value) + " (" + p.percent + "%)"; } },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", name: s.name, radius: ["35%", "65%"], center: ["50%", "45%"], data: items,
                 label: { formatter: function (p) { return p.name + "\n" + fmt(p.value); } } }]
    };
  }

  function axes(table) {
    var unit = table.series[0].unit;
    var fmt = format(unit);
    return {
      color: palette,
      tooltip: { trigger: "axis", valueFormatter: fmt },
      legend: table.series.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: 8, right: 16, top: 16, bottom: table.series.length > 1 ? 36 : 8, containLabel: true },
      xAxis: { type: "category", data: table.labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: unit === "bytes" ? 0 : 1, axisLabel: { formatter: fmt } },
      series: table.series.map(function (s) {
        return { type: table.chart, name: s.name, data: s.data, smooth: false,
                 barMaxWidth: 36, showSymbol: table.labels.length <= 24 };
      })
    };
  }

  data.tables.forEach(function (table) {
    var el = document.querySelector('[data-chart="' + table.key + '"]');
    if (!el || !table.labels.length) return;
    el.hidden = false;
    var chart = echarts.init(el, null, { renderer: "canvas", locale: english ? "EN" : "ZH" });
    var option = table.chart === "pie" ? pie(table) : axes(table);
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  document.body.setAttribute("data-charts", String(charts.length));
})();
