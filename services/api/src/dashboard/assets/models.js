// Models: the CLV models the engine applies now and how well they predicted (GET /v1/models/current):
// the purchase-count model's parameters and fit, the model choice with each candidate's holdout
// error, the holdout tracking chart, actual against predicted by calibration purchases, the P(alive)
// distribution and the spend model; then every fit's parameters and verdict (GET /v1/models).
// Chart.js (UMD build, loaded before this module) draws the charts.
import { api, card, chart, fact, fill, fmtDate, fmtDateTime, fmtInt, fmtNum, h, start, wireMore } from "./dashboard.js";

const HISTORY_PAGE = 50;
const KINDS = { bgnbd: "BG/NBD", paretonbd: "Pareto/NBD", "gamma-gamma": "Gamma-Gamma" };
const SYMBOLS = { alpha: "α", beta: "β", gamma: "γ" };
const ACTUAL = "#2563eb";
const PREDICTED = "#f59e0b";

const kindName = (kind) => KINDS[kind] ?? kind;
/** "r 0.243, α 4.414, a 0.793, b 2.426" */
const fmtParams = (params) =>
  Object.entries(params)
    .map(([name, value]) => `${SYMBOLS[name] ?? name} ${fmtNum(value, 3)}`)
    .join(", ");
const fmtMs = (ms) => (ms < 1000 ? `${fmtInt(ms)} ms` : `${fmtNum(ms / 1000, 2)} s`);
const unitName = (days) => (days === 7 ? "week" : `${days}-day unit`);
/** A validation with its tables, or undefined (none stored, or skipped). */
const validated = (v) => (v && !("skipped" in v) ? v : undefined);
const noValidation = (v) => (v ? `No holdout validation: ${v.skipped}.` : "No holdout validation was stored with this model.");

const STATUS = { accepted: ["works", "applied"], "not-chosen": ["unclear", "not chosen"], rejected: ["harms", "rejected"] };
const statusBadge = (status) => h("span", { class: `verdict ${STATUS[status]?.[0] ?? "unclear"}` }, STATUS[status]?.[1] ?? status);

function countFacts(count) {
  if (!count) return h("p", { class: "muted" }, "No purchase-count model has been accepted yet: the worker refits every REFIT_INTERVAL_MS (daily), or run npm run refit.");
  const v = validated(count.validation);
  const wide = (el) => {
    el.classList.add("wide");
    return el;
  };
  return [
    fact("purchase-count model", h("span", { id: "count-kind" }, kindName(count.kind)), `#${count.id}, applied to every customer`),
    wide(fact("parameters", h("span", { id: "count-params" }, fmtParams(count.params)), `rates per ${unitName(count.timeUnitDays)}`)),
    fact("fitted", h("span", { id: "count-fitted" }, fmtDateTime(count.fittedAt)), `in ${fmtMs(count.durationMs)}, on the data to ${fmtDate(count.calibrationEnd)}`),
    fact("sample size", h("span", { id: "count-sample" }, fmtInt(count.sampleSize)), "purchasing customers"),
    fact("log-likelihood", h("span", { id: "count-ll" }, fmtNum(count.logLikelihood, 1)), `${count.converged ? "converged" : "did not converge"} in ${fmtInt(count.iterations)} iterations`),
    fact("holdout MAE", h("span", { id: "count-mae" }, v ? fmtNum(v.meanAbsoluteError, 4) : "—"), v ? `correlation ${fmtNum(v.correlation, 3)}, ${fmtInt(v.customers)} customers` : noValidation(count.validation)),
  ];
}

function spendFacts(spend) {
  if (!spend) return h("p", { class: "muted" }, "No Gamma-Gamma spend model has been accepted yet (it needs repeat buyers).");
  return [
    fact("spend model", h("span", { id: "spend-kind" }, kindName(spend.kind)), `#${spend.id}, fitted ${fmtDateTime(spend.fittedAt)}`),
    fact("parameters", h("span", { id: "spend-params" }, fmtParams(spend.params))),
    fact("sample size", fmtInt(spend.sampleSize), "repeat buyers with spend"),
    fact("log-likelihood", fmtNum(spend.logLikelihood, 1), `${spend.converged ? "converged" : "did not converge"} in ${fmtInt(spend.iterations)} iterations`),
  ];
}

/** The choice's sentence and each candidate's holdout MAE, correlation and fate. */
function choiceCard(choice, count) {
  if (!choice) return h("p", { class: "muted" }, count ? "This model was fitted without a model choice (before CLV_MODEL)." : "No model choice yet.");
  const validationOf = (model) => validated(choice.validations.find((v) => v.kind === model)?.validation);
  const fate = (c) => (c.rejected ? h("span", { class: "verdict harms", title: c.rejected }, "rejected") : statusBadge(c.model === choice.choice.model ? "accepted" : "not-chosen"));
  return [
    h("p", { id: "choice-why" }, choice.choice.why),
    h(
      "table",
      { id: "candidates-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "candidate"), h("th", { class: "num" }, "holdout MAE"), h("th", { class: "num" }, "correlation"), h("th", {}, ""))),
      h(
        "tbody",
        {},
        choice.candidates.map((c) =>
          h(
            "tr",
            { dataset: { model: c.model } },
            h("td", {}, kindName(c.model)),
            h("td", { class: "num mae" }, fmtNum(c.mae, 4)),
            h("td", { class: "num correlation" }, fmtNum(validationOf(c.model)?.correlation, 3)),
            h("td", { class: "fate" }, fate(c), c.rejected ? h("span", { class: "muted" }, ` ${c.rejected}`) : ""),
          ),
        ),
      ),
    ),
    h("p", { class: "hint" }, `CLV_MODEL=${choice.setting}. MAE: mean over customers of |predicted − actual| repeat purchases in the holdout; lower is better.`),
  ];
}

const round = (x) => Number(x.toFixed(3));

function drawValidation(count) {
  const v = validated(count?.validation);
  if (!v) {
    const why = count ? noValidation(count.validation) : "No model yet.";
    fill("tracking-note", why);
    fill("groups-note", why);
    return;
  }
  const unit = unitName(count.timeUnitDays);
  chart("tracking-chart", {
    type: "line",
    data: {
      labels: v.tracking.map((p) => (Number.isInteger(p.t) ? String(p.t) : fmtNum(p.t, 1))),
      datasets: [
        { label: "actual", data: v.tracking.map((p) => round(p.actual)), borderColor: ACTUAL, backgroundColor: ACTUAL, pointRadius: 0 },
        { label: "predicted", data: v.tracking.map((p) => round(p.predicted)), borderColor: PREDICTED, backgroundColor: PREDICTED, borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { x: { title: { display: true, text: `${unit}s after ${fmtDate(v.calibrationEnd)}` }, ticks: { maxTicksLimit: 14 } }, y: { beginAtZero: true } },
      plugins: { legend: { display: true, position: "bottom", labels: { usePointStyle: true, pointStyle: "line" } } },
    },
  });
  fill(
    "tracking-note",
    `Holdout: the last ${fmtNum(v.holdoutLength, 1)} ${unit}s (${fmtNum(v.holdoutShare * 100, 0)} % of the history), scored on the ${fmtInt(v.customers)} customers acquired before ${fmtDate(v.calibrationEnd)}: `,
    `${fmtInt(v.actualTransactions)} repeat purchases, ${fmtNum(v.predictedTransactions, 1)} predicted by the model refitted on the data before.`,
  );

  const groups = v.byCalibrationTransactions;
  chart("groups-chart", {
    type: "bar",
    data: {
      labels: groups.map((g) => `${g.calibrationTransactions}${g.orMore ? "+" : ""}`),
      datasets: [
        { label: "actual", data: groups.map((g) => round(g.actualMean)), backgroundColor: ACTUAL },
        { label: "predicted", data: groups.map((g) => round(g.predictedMean)), backgroundColor: PREDICTED },
      ],
    },
    options: {
      scales: { x: { title: { display: true, text: "repeat purchases before the holdout" } }, y: { beginAtZero: true, title: { display: true, text: "mean in the holdout" } } },
      plugins: { legend: { display: true, position: "bottom" }, tooltip: { callbacks: { afterLabel: (item) => `${fmtInt(groups[item.dataIndex].customers)} customers` } } },
    },
  });
  fill("groups-note", `Mean repeat purchases per customer in the holdout, by repeat purchases before it (the published BG/NBD check). Hover a bar for its customers.`);
}

function drawPAlive(current) {
  const bins = current.pAliveDistribution;
  if (!bins.length) return void fill("p-alive-note", "No model yet.");
  chart("p-alive-chart", {
    type: "bar",
    data: { labels: bins.map((b) => `${fmtNum(b.from, 1)}–${fmtNum(b.to, 1)}`), datasets: [{ label: "customers", data: bins.map((b) => b.customers), backgroundColor: "#22c55e" }] },
    options: { scales: { x: { title: { display: true, text: "P(alive)" } }, y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const total = bins.reduce((n, b) => n + b.customers, 0);
  fill("p-alive-note", `${fmtInt(total)} customers predicted by model #${current.count.id}. Under BG/NBD a one-time buyer's P(alive) is 1.`);
}

function historyRow(m) {
  const v = m.validation;
  return h(
    "tr",
    { dataset: { id: m.id, status: m.status } },
    h("td", { class: "num" }, String(m.id)),
    h("td", { title: `fitted ${fmtDateTime(m.fittedAt)} UTC in ${fmtMs(m.durationMs)}` }, fmtDate(m.calibrationEnd)),
    h("td", { class: "kind" }, kindName(m.kind)),
    h("td", { class: "status" }, statusBadge(m.status)),
    h("td", { class: "reason", title: m.reasonDetail ?? "" }, m.reason ?? ""),
    h("td", { class: "params" }, fmtParams(m.params)),
    h("td", { class: "num" }, fmtInt(m.sampleSize)),
    h("td", { class: "num" }, fmtNum(m.logLikelihood, 1)),
    h("td", {}, m.converged ? "yes" : "no"),
    h("td", { class: "num mae", title: v?.skipped ?? "" }, fmtNum(v?.meanAbsoluteError, 4)),
    h("td", { class: "num" }, fmtNum(v?.correlation, 3)),
  );
}

const HISTORY_HEAD = [["id", true], ["data to", false], ["model", false], ["status", false], ["reason", false], ["parameters", false], ["sample", true], ["LL", true], ["converged", false], ["holdout MAE", true], ["correlation", true]];

async function history() {
  const tbody = h("tbody", {});
  const more = h("button", { class: "primary", type: "button", hidden: true }, "Older");
  const load = async (before) => {
    const page = await api("/v1/models", { limit: HISTORY_PAGE, before });
    tbody.append(...page.models.map(historyRow));
    wireMore(more, page.nextBefore, load);
  };
  await load(undefined);
  if (!tbody.children.length) return h("p", { class: "muted" }, "No model has been fitted yet.");
  return [
    h("div", { class: "scroll" }, h("table", { id: "history-table" }, h("thead", {}, h("tr", {}, HISTORY_HEAD.map(([t, num]) => h("th", { class: num ? "num" : undefined }, t)))), tbody)),
    h("p", { class: "hint" }, "Every refit stores each model it fitted: applied, rejected by the fit guard (hover the reason for its detail) or not chosen by the model choice. Data to: the clock when fitted (hover for the fit time)."),
    h("p", {}, more),
  ];
}

start(async () => {
  const results = await Promise.allSettled([
    card("count-model", async () => {
      const current = await api("/v1/models/current");
      fill("spend-model", spendFacts(current.spend));
      fill("model-choice", choiceCard(current.choice, current.count));
      drawValidation(current.count);
      drawPAlive(current);
      return countFacts(current.count);
    }),
    card("history", history),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
});
