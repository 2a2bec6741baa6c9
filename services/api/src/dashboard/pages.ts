// The dashboard's HTML shells: static markup with placeholders that the page's script fills from
// the JSON API. No data and no key is ever rendered on the server.

export type PageName = "overview" | "at-risk" | "customers" | "customer" | "models";

const NAV: { page: PageName; href: string; label: string }[] = [
  { page: "overview", href: "/dashboard", label: "Overview" },
  { page: "at-risk", href: "/dashboard/at-risk", label: "At risk" },
  { page: "customers", href: "/dashboard/customers", label: "Customers" },
  { page: "models", href: "/dashboard/models", label: "Models" },
];

const KEY_PANEL = `
<section id="key-panel" class="panel key-panel" hidden>
  <h2>API key</h2>
  <p>The dashboard reads the JSON API with an API key that has the <strong>read</strong> scope. Create one with</p>
  <p><code>npm run keys -- create --scope read --name dashboard</code></p>
  <form id="key-form" autocomplete="off">
    <label class="muted" for="api-key">Key</label>
    <input id="api-key" name="api-key" type="password" placeholder="lcs_…" spellcheck="false" required>
    <button class="primary" type="submit">Use key</button>
  </form>
  <p class="hint">The key stays in this browser tab (sessionStorage) and is sent only to this API, as
  <code>Authorization: Bearer</code>. Closing the tab forgets it.</p>
  <p id="key-error" class="error"></p>
</section>`;

const BODIES: Record<PageName, string> = {
  overview: `
<div class="toolbar">
  <h1>Overview</h1>
  <label>Period <select id="weeks">
    <option value="4">4 weeks</option><option value="12" selected>12 weeks</option><option value="26">26 weeks</option><option value="52">52 weeks</option>
  </select></label>
  <span id="period" class="muted"></span>
</div>
<div class="grid two">
  <section class="panel"><h2>Stage funnel <span class="muted">(customers per stage now)</span></h2><div class="chart tall"><canvas id="funnel-chart" aria-label="Customers per stage"></canvas></div><p id="funnel-total" class="hint"></p></section>
  <section class="panel"><h2>Stage flows <span class="muted">(transitions in the period, from → to)</span></h2><div id="flows"></div></section>
</div>
<div class="grid four mt">
  <section class="panel"><h2>NPS</h2><div class="chart"><canvas id="nps-chart" aria-label="NPS per week"></canvas></div></section>
  <section class="panel"><h2>CSAT %</h2><div class="chart"><canvas id="csat-chart" aria-label="CSAT per week"></canvas></div></section>
  <section class="panel"><h2>CES</h2><div class="chart"><canvas id="ces-chart" aria-label="CES per week"></canvas></div></section>
  <section class="panel"><h2>Churn rate %</h2><div class="chart"><canvas id="churn-chart" aria-label="Churn rate per week"></canvas></div></section>
</div>
<div id="trends-error"></div>
<div class="grid two mt">
  <section class="panel"><h2>Follow-up queues</h2><div id="queues"></div></section>
  <section class="panel"><h2>Live alerts <span id="stream-status" class="muted"></span></h2><ul id="alerts" class="alerts"></ul></section>
</div>
<section class="panel mt">
  <h2>Follow-up uplift <span class="muted">(follow-ups due in the period: customers who bought within
  <select id="uplift-days" aria-label="days"><option value="7">7</option><option value="30" selected>30</option><option value="60">60</option><option value="90">90</option></select>
  days, treated against held out)</span></h2>
  <div id="uplift"></div>
</section>
<section class="panel mt">
  <h2>Acquisition channels <span class="muted">(CLV against acquisition cost; under 3:1 flagged)</span></h2>
  <div id="channels"></div>
</section>`,
  "at-risk": `
<div class="toolbar"><h1>At-risk customers</h1><span class="muted">largest value at stake first</span></div>
<section class="panel">
  <div id="at-risk"></div>
  <p class="hint">Value at stake: predicted CLV × (1 − P(alive)) for repeat buyers with a prediction; otherwise historical
  CLV per year over the prediction horizon × (1 − health / 100). See <a href="/docs">/docs</a>, GET /v1/alerts/at-risk.</p>
</section>`,
  customers: `
<div class="toolbar">
  <h1>Customers</h1>
  <form id="lookup"><label>Customer id <input id="lookup-id" required></label> <button class="primary" type="submit">Open</button></form>
  <label>Stage <select id="stage-filter"><option value="">all</option></select></label>
</div>
<section class="panel"><div id="customers"></div></section>`,
  customer: `
<div class="toolbar"><h1>Customer <span id="customer-id"></span></h1><span id="customer-stage"></span></div>
<section class="panel"><div id="facts" class="facts"></div></section>
<section class="panel mt"><h2>Timeline <span class="muted">(stage transitions and events, newest first)</span></h2><div id="timeline"></div></section>`,
  models: `
<div class="toolbar"><h1>Models</h1><span class="muted">the CLV models the engine applies, and how well they predicted the holdout</span></div>
<section class="panel"><h2>Current purchase-count model <span class="muted">(P(alive) and expected purchases)</span></h2><div id="count-model" class="facts"></div></section>
<div class="grid two mt">
  <section class="panel"><h2>Model choice <span class="muted">(the count models on the same holdout)</span></h2><div id="model-choice"></div></section>
  <section class="panel"><h2>P(alive) <span class="muted">(customers by their current prediction)</span></h2><div class="chart tall"><canvas id="p-alive-chart" aria-label="Customers per P(alive) bin"></canvas></div><p id="p-alive-note" class="hint"></p></section>
</div>
<div class="grid two mt">
  <section class="panel"><h2>Holdout tracking <span class="muted">(cumulative repeat purchases, actual and predicted)</span></h2><div class="chart tall"><canvas id="tracking-chart" aria-label="Cumulative repeat purchases in the holdout, actual and predicted"></canvas></div><p id="tracking-note" class="hint"></p></section>
  <section class="panel"><h2>Actual vs predicted <span class="muted">(by repeat purchases before the holdout)</span></h2><div class="chart tall"><canvas id="groups-chart" aria-label="Mean holdout repeat purchases by calibration repeat purchases, actual and predicted"></canvas></div><p id="groups-note" class="hint"></p></section>
</div>
<section class="panel mt"><h2>Spend model <span class="muted">(expected spend per purchase)</span></h2><div id="spend-model" class="facts"></div></section>
<section class="panel mt"><h2>Parameter history <span class="muted">(every fit, newest first)</span></h2><div id="history"></div></section>`,
};

const SCRIPTS: Record<PageName, string[]> = {
  overview: ["chart.umd.min.js", "overview.js"],
  "at-risk": ["at-risk.js"],
  customers: ["customers.js"],
  customer: ["customer.js"],
  models: ["chart.umd.min.js", "models.js"],
};

const TITLES: Record<PageName, string> = { overview: "Overview", "at-risk": "At risk", customers: "Customers", customer: "Customer", models: "Models" };

/** A page shell; the script of the same name renders its data once a key is known. */
export function renderPage(page: PageName): string {
  const active = page === "customer" ? "customers" : page;
  const nav = NAV.map((n) => `<a href="${n.href}"${n.page === active ? ' aria-current="page"' : ""}>${n.label}</a>`).join("");
  // Classic scripts (Chart.js's UMD build) run before the page modules: both are deferred, in order.
  const scripts = SCRIPTS[page].map((s) => (s.endsWith(".umd.min.js") ? `<script src="/dashboard/assets/${s}" defer></script>` : `<script type="module" src="/dashboard/assets/${s}"></script>`)).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TITLES[page]} · Customer lifecycle ops</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
${scripts}
</head>
<body data-page="${page}" data-state="key">
<header class="top">
  <span class="brand">Customer lifecycle · ops</span>
  <nav>${nav}</nav>
  <span id="key-status" class="key"></span>
</header>
<main>
${KEY_PANEL}
<div id="content" hidden>
<p id="page-error" class="error"></p>
${BODIES[page]}
</div>
</main>
</body>
</html>
`;
}
