// The acquisition channels card (GET /v1/metrics?groupBy=channel, `channels`): per channel the
// customers, average CLV, CAC and CLV:CAC, with channels under the seed articles' 3:1 line flagged.
import { fmtInt, fmtMoney, h } from "./dashboard.js";

/** "3.4 : 1", or "—" when nothing was spent (no ratio). */
export const fmtRatio = (x) => (x === null || x === undefined ? "—" : `${x.toFixed(1)} : 1`);

function flag(c) {
  if (c.belowThreeToOne === null) return h("span", { class: "muted" }, "no spend");
  return c.belowThreeToOne ? h("span", { class: "verdict harms" }, "below 3:1") : h("span", { class: "verdict works" }, "healthy");
}

/** The card's contents from the metrics report. */
export function channelsTable(report) {
  const channels = report.channels ?? [];
  if (!channels.length) return h("p", { class: "muted" }, "No customers before the end of this period.");
  return [
    h(
      "table",
      { id: "channels-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "channel"), h("th", { class: "num" }, "customers"), h("th", { class: "num" }, "avg CLV"), h("th", { class: "num" }, "CAC"), h("th", { class: "num" }, "CLV:CAC"), h("th", {}, "3:1"))),
      h(
        "tbody",
        {},
        channels.map((c) =>
          h(
            "tr",
            { "data-channel": c.channel, class: c.belowThreeToOne ? "below" : undefined },
            h("td", {}, c.channel),
            h("td", { class: "num customers" }, fmtInt(c.customers)),
            h("td", { class: "num clv" }, fmtMoney(c.averageClv)),
            h("td", { class: "num cac" }, fmtMoney(c.cac)),
            h("td", { class: "num ratio" }, fmtRatio(c.clvCacRatio)),
            h("td", { class: "flag" }, flag(c)),
          ),
        ),
      ),
    ),
    h("p", { class: "hint" }, "Customers first seen before the period's end. CLV: historical, (purchases − refunds) × margin. CAC: acquisition spend ÷ customers. CLV:CAC from the sums."),
  ];
}
