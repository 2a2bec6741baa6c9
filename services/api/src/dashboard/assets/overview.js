// Overview: stage funnel and flows, weekly NPS / CSAT / CES / churn, follow-up queue health, live
// alerts, the follow-ups' holdout uplift and CLV:CAC per acquisition channel. Chart.js (UMD build, loaded before this module) draws the charts.
/* global document, window, URLSearchParams, AbortController */
import { ApiError, STAGES, STAGE_COLORS, api, card, chart, customerLink, fill, fmtDate, fmtDateTime, fmtInt, fmtMoney, fmtNum, h, start, stageBadge, streamEvents } from "./dashboard.js";
import { upliftTable } from "./uplift.js";
import { channelsTable } from "./channels.js";

const DAY_MS = 86_400_000;
const MAX_ALERTS = 50;

/** The period: whole UTC days ending after the latest event (history replayed from files is not today). */
function periodOf(latestEventAt, weeks) {
  const last = latestEventAt ? Date.parse(latestEventAt) : Date.now();
  const to = Math.floor(last / DAY_MS) * DAY_MS + DAY_MS;
  return { from: new Date(to - weeks * 7 * DAY_MS).toISOString(), to: new Date(to).toISOString() };
}

function drawFunnel(counts) {
  chart("funnel-chart", {
    type: "bar",
    data: { labels: counts.stages.map((s) => s.stage), datasets: [{ label: "customers", data: counts.stages.map((s) => s.customers), backgroundColor: counts.stages.map((s) => STAGE_COLORS[s.stage]) }] },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const unstaged = counts.unstaged ? `, ${fmtInt(counts.unstaged)} not evaluated yet` : "";
  fill("funnel-total", `${fmtInt(counts.total)} customers${unstaged}; latest event ${fmtDateTime(counts.latestEventAt)} UTC`);
}

/** A from × to matrix of transition counts, shaded by size; the title gives distinct customers. */
function flowsTable(flows) {
  if (!flows.length) return h("p", { class: "muted" }, "No stage transitions in this period.");
  const rows = [null, ...STAGES].filter((from) => flows.some((f) => f.from === from));
  const max = Math.max(...flows.map((f) => f.transitions));
  const cell = (from, to) => {
    const f = flows.find((x) => x.from === from && x.to === to);
    const td = h("td", { class: f ? undefined : "zero", title: f ? `${f.customers} customers` : undefined }, f ? fmtInt(f.transitions) : "·");
    if (f) td.style.background = `rgba(37, 99, 235, ${(0.08 + 0.5 * (f.transitions / max)).toFixed(2)})`;
    return td;
  };
  const total = flows.reduce((sum, f) => sum + f.transitions, 0);
  return [
    h(
      "table",
      { class: "matrix", id: "flows-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "from \\ to"), STAGES.map((to) => h("th", { class: "num" }, to)))),
      h("tbody", {}, rows.map((from) => h("tr", {}, h("th", {}, from ?? "(first stage)"), STAGES.map((to) => cell(from, to))))),
    ),
    h("p", { class: "hint" }, `${fmtInt(total)} transitions. Hover a cell for the number of customers.`),
  ];
}

function drawTrends(trends) {
  const labels = trends.weeks.map((w) => w.start.slice(5, 10));
  // Each point's tooltip says how many answers (or customers) it stands on: a week of 3 answers swings.
  const line = (id, label, values, basis, color, y) =>
    chart(id, {
      type: "line",
      data: { labels, datasets: [{ label, data: values, borderColor: color, backgroundColor: color, spanGaps: true, pointRadius: 2 }] },
      options: {
        scales: { x: { ticks: { maxTicksLimit: 6 } }, y },
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => `week of ${trends.weeks[items[0].dataIndex].start.slice(0, 10)}`, afterLabel: (item) => basis(trends.weeks[item.dataIndex]) } } },
      },
    });
  const answers = (kind) => (w) => `${fmtInt(w[kind].responses)} responses`;
  line("nps-chart", "NPS", trends.weeks.map((w) => w.nps.score), answers("nps"), "#2563eb", { suggestedMin: -100, suggestedMax: 100 });
  line("csat-chart", "CSAT %", trends.weeks.map((w) => w.csat.percent), answers("csat"), "#16a34a", { suggestedMin: 0, suggestedMax: 100 });
  line("ces-chart", "CES", trends.weeks.map((w) => w.ces.average), answers("ces"), "#9333ea", { suggestedMin: 1, suggestedMax: 7 });
  line("churn-chart", "Churn %", trends.weeks.map((w) => w.churn.ratePercent), (w) => `${fmtInt(w.churn.lost)} lost of ${fmtInt(w.churn.activeAtStart)} active`, "#ef4444", { beginAtZero: true });
}

const QUEUE_COLUMNS = ["waiting", "prioritized", "delayed", "active", "failed", "completed"];

function queuesTable({ queues }) {
  if (!queues.length) return h("p", { class: "muted" }, "No follow-up queues are configured for this API.");
  const sum = (state) => queues.reduce((n, q) => n + q.counts[state], 0);
  return h(
    "table",
    { id: "queues-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "queue"), QUEUE_COLUMNS.map((c) => h("th", { class: "num" }, c)))),
    h(
      "tbody",
      {},
      queues.map((q) => h("tr", {}, h("td", {}, q.name, q.paused ? h("span", { class: "badge churned" }, "paused") : ""), QUEUE_COLUMNS.map((c) => h("td", { class: "num" }, fmtInt(q.counts[c]))))),
      h("tr", { class: "total" }, h("td", {}, "all"), QUEUE_COLUMNS.map((c) => h("td", { class: "num" }, fmtInt(sum(c))))),
    ),
  );
}

// ---- live alerts -------------------------------------------------------------------------------

let streaming = false;

function showAlert(event) {
  let alert;
  try {
    alert = JSON.parse(event.data);
  } catch {
    return;
  }
  const list = document.getElementById("alerts");
  list.querySelector(".placeholder")?.remove();
  list.prepend(
    h(
      "li",
      {},
      h("time", { class: "muted" }, fmtDateTime(alert.at)),
      stageBadge(event.event),
      customerLink(alert.id),
      h("span", { class: "muted" }, `from ${alert.from ?? "—"} · ${alert.reason}`),
      h("span", {}, `CLV ${fmtMoney(alert.clv?.historical)}`, alert.clv?.pAlive != null ? ` · P(alive) ${fmtNum(alert.clv.pAlive, 2)}` : ""),
    ),
  );
  while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
}

function startAlerts() {
  if (streaming) return;
  streaming = true;
  fill("alerts", h("li", { class: "placeholder muted" }, "No alerts since this page opened: customers turning at-risk or churned appear here as it happens."));
  const controller = new AbortController();
  window.addEventListener("pagehide", () => controller.abort());
  const status = (state, detail) => {
    const label = { live: "live", reconnecting: "reconnecting…", refused: `refused: ${detail}` }[state] ?? state;
    fill("stream-status", h("span", { class: `status-dot ${state === "live" ? "live" : "down"}` }), label);
    document.getElementById("stream-status").dataset.state = state;
  };
  void streamEvents("/v1/alerts/stream", { onEvent: showAlert, onStatus: status, signal: controller.signal });
}

// ---- the page ----------------------------------------------------------------------------------

start(async () => {
  const params = new URLSearchParams(window.location.search);
  const weeks = Math.min(52, Math.max(1, Number(params.get("weeks")) || 12));
  const select = document.getElementById("weeks");
  if (!select.querySelector(`option[value="${weeks}"]`)) select.append(h("option", { value: weeks }, `${weeks} weeks`));
  select.value = String(weeks);
  select.onchange = () => {
    params.set("weeks", select.value);
    window.location.search = params.toString();
  };

  const days = [7, 30, 60, 90].includes(Number(params.get("days"))) ? Number(params.get("days")) : 30;
  const daysSelect = document.getElementById("uplift-days");
  daysSelect.value = String(days);
  daysSelect.onchange = () => {
    params.set("days", daysSelect.value);
    window.location.search = params.toString();
  };

  startAlerts();
  const counts = await api("/v1/dashboard/stage-counts");
  drawFunnel(counts);
  const period = periodOf(counts.latestEventAt, weeks);
  fill("period", `${fmtDate(period.from)} → ${fmtDate(period.to)} (to the day after the latest event)`);

  const results = await Promise.allSettled([
    card("flows", async () => flowsTable((await api("/v1/dashboard/stage-flows", period)).flows)),
    card("queues", async () => queuesTable(await api("/v1/queues"))),
    card("uplift", async () => upliftTable(await api("/v1/playbooks/uplift", { ...period, days }))),
    card("channels", async () => channelsTable(await api("/v1/metrics", { ...period, groupBy: "channel" }))),
    api("/v1/dashboard/trends", period).then(drawTrends, (err) => {
      if (!(err instanceof ApiError && err.status === 401)) {
        fill("trends-error", h("p", { class: "error" }, `Trends: ${err.message}`));
        err.shown = true;
      }
      throw err;
    }),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
});
