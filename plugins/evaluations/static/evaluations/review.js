// Charts of the periodic review, drawn by the vendored Chart.js from the figures the page carries.
document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("review-data").textContent);
  // Numbers in the page's language, as the server writes them (intranet/i18n.py): 90,3 % / 90.3%.
  const lang = document.documentElement.lang;
  const decimal = new Intl.NumberFormat(lang, {maximumFractionDigits: 1});
  const percent = (v) => decimal.format(v) + (lang.startsWith("en") ? "%" : "\u00a0%");
  const common = {responsive: true, maintainAspectRatio: false, animation: false, locale: lang};
  new Chart(document.getElementById("chart-attendance"), {
    type: "bar",
    data: {labels: data.labels, datasets: [
      {label: data.text.present, data: data.present, backgroundColor: "#c62828"},
      {label: data.text.spoke, data: data.spoke, backgroundColor: "#f9a825"},
    ]},
    options: {...common, scales: {y: {beginAtZero: true, max: 100, ticks: {callback: percent}}},
              plugins: {tooltip: {callbacks: {label: (c) => `${c.dataset.label}: ${percent(c.parsed.y)}`}}}},
  });
  new Chart(document.getElementById("chart-ratings"), {
    type: "line",
    data: {labels: data.labels, datasets: [{label: data.text.rating, data: data.rating, borderColor: "#1565c0",
                                            spanGaps: true}]},
    options: {...common, scales: {y: {min: 1, max: 5}}},
  });
  new Chart(document.getElementById("chart-tasks"), {
    type: "doughnut",
    data: {labels: data.text.tasks, datasets: [{data: data.tasks, backgroundColor: ["#2e7d32", "#c62828", "#9e9e9e"]}]},
    options: common,
  });
});
