// Charts of the periodic review, drawn by the vendored Chart.js from the figures the page carries.
document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("review-data").textContent);
  const common = {responsive: true, maintainAspectRatio: false, animation: false};
  new Chart(document.getElementById("chart-attendance"), {
    type: "bar",
    data: {labels: data.labels, datasets: [
      {label: data.text.present, data: data.present, backgroundColor: "#c62828"},
      {label: data.text.spoke, data: data.spoke, backgroundColor: "#f9a825"},
    ]},
    options: {...common, scales: {y: {beginAtZero: true, max: 100, ticks: {callback: (v) => `${v} %`}}}},
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
