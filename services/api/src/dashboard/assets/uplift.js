// The holdout uplift card (GET /v1/playbooks/uplift): per playbook with a control group, the
// purchase rate of treated against held-out customers, the difference and its interval, drawn as
// a bar around zero. An interval wholly above zero is evidence the playbook works.
import { fmtInt, h } from "./dashboard.js";

/** Rate points with a sign: 0.1345 → "+13.5 pts". */
export const fmtPoints = (x) => (x === null || x === undefined ? "—" : `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x * 100).toFixed(1)} pts`);
/** A rate as a percentage: 0.1178 → "11.8 %". */
export const fmtRate = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)} %`);

function verdict(p) {
  if (p.low === null || p.high === null) return h("span", { class: "muted" }, "not enough data");
  if (p.low > 0) return h("span", { class: "verdict works" }, "works");
  if (p.high < 0) return h("span", { class: "verdict harms" }, "harms");
  return h("span", { class: "verdict unclear" }, "no clear effect");
}

/** The interval as a bar on a scale of ±`scale` rate points, with a tick at zero and one at the estimate. */
function intervalBar(p, scale) {
  const track = h("div", { class: "interval", title: `${fmtPoints(p.low)} to ${fmtPoints(p.high)}` }, h("span", { class: "zero" }));
  if (p.low === null || p.high === null) return track;
  const at = (x) => `${(50 + (50 * x) / scale).toFixed(2)}%`;
  const range = h("span", { class: "range" });
  range.style.left = at(p.low);
  range.style.width = `${((50 * (p.high - p.low)) / scale).toFixed(2)}%`;
  const estimate = h("span", { class: "estimate" });
  estimate.style.left = at(p.uplift);
  track.append(range, estimate);
  return track;
}

const group = (g, cls) => [
  h("td", { class: `num ${cls}-rate` }, fmtRate(g.rate)),
  h("td", { class: `num ${cls}-counts`, title: g.pending ? `${fmtInt(g.pending)} more whose window is still open` : undefined }, `${fmtInt(g.converted)} / ${fmtInt(g.customers)}`),
];

/** The card's contents from the report; playbooks without a control group are left out. */
export function upliftTable(report) {
  const rows = report.playbooks.filter((p) => p.holdoutShare > 0 || p.heldOut.customers + p.heldOut.pending > 0);
  if (!rows.length) {
    return h("p", { class: "muted" }, "No playbook has a control group. Give one a holdout share, e.g. PLAYBOOKS='{\"win-back-at-risk\":{\"holdoutShare\":0.1}}'.");
  }
  const scale = Math.max(0.01, ...rows.flatMap((p) => [Math.abs(p.low ?? 0), Math.abs(p.high ?? 0)]));
  const confidence = `${Math.round((rows[0]?.confidence ?? 0.95) * 100)} %`;
  return [
    h(
      "table",
      { id: "uplift-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "playbook"),
          h("th", { class: "num" }, "held out"),
          h("th", { class: "num" }, "treated rate"),
          h("th", { class: "num" }, "bought / treated"),
          h("th", { class: "num" }, "held-out rate"),
          h("th", { class: "num" }, "bought / held out"),
          h("th", { class: "num" }, "uplift"),
          h("th", {}, `${confidence} interval`),
          h("th", {}, ""),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((p) =>
          h(
            "tr",
            { dataset: { playbook: p.playbook } },
            h("td", {}, p.playbook),
            h("td", { class: "num" }, fmtRate(p.holdoutShare)),
            group(p.treated, "treated"),
            group(p.heldOut, "held-out"),
            h("td", { class: "num uplift" }, fmtPoints(p.uplift)),
            h("td", { class: "interval-cell" }, intervalBar(p, scale), h("span", { class: "interval-text" }, p.low === null ? "—" : `${fmtPoints(p.low)} … ${fmtPoints(p.high)}`)),
            h("td", {}, verdict(p)),
          ),
        ),
      ),
    ),
    h(
      "p",
      { class: "hint" },
      `Customers who bought within ${report.days} days after a follow-up was due, sent against held out (never sent). `,
      `Only customers whose ${report.days} days have passed by ${report.now.slice(0, 10)} count; hover the counts for those still open.`,
    ),
  ];
}
