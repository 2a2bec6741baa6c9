// The dashboard's shared browser code: the API key (sessionStorage), calls to the JSON API, a DOM
// builder that never parses data as HTML, formatting, and server-sent events read with fetch (so
// the key goes in the Authorization header; EventSource cannot send one).
/* global document, window, sessionStorage, fetch, Headers, URLSearchParams, TextDecoderStream, setTimeout */

const KEY_STORAGE = "lifecycle.dashboard.apiKey";

export const STAGES = ["prospect", "new", "repeat", "at-risk", "churned"];
export const STAGE_COLORS = { prospect: "#94a3b8", new: "#38bdf8", repeat: "#22c55e", "at-risk": "#f59e0b", churned: "#ef4444" };

/** An answer of the API other than 2xx, with its problem details. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
  }
}

export const getKey = () => sessionStorage.getItem(KEY_STORAGE) ?? "";
const setKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
const clearKey = () => sessionStorage.removeItem(KEY_STORAGE);

/** `h("a", { href, class: "x" }, "text", child)`: elements from data without innerHTML. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) el.append(child instanceof window.Node ? child : String(child));
  return el;
}

/** Replaces the contents of the element with id `id`. */
export function fill(id, ...children) {
  const el = document.getElementById(id);
  if (el) el.replaceChildren(...children.flat());
  return el;
}

async function problemDetail(res) {
  try {
    const body = await res.json();
    return typeof body?.detail === "string" ? body.detail : body?.title;
  } catch {
    return undefined;
  }
}

/** GET a JSON route of the API with the key; query values that are undefined are left out. */
export async function api(path, query = {}, { signal } = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  const url = params.size ? `${path}?${params}` : path;
  const res = await fetch(url, { headers: { authorization: `Bearer ${getKey()}`, accept: "application/json" }, signal });
  if (!res.ok) throw new ApiError(res.status, await problemDetail(res));
  return res.json();
}

// ---- formatting -------------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat("en-US");
const moneyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
export const fmtInt = (n) => (n === null || n === undefined ? "—" : numberFormat.format(n));
export const fmtNum = (n, digits = 1) => (n === null || n === undefined ? "—" : Number(n).toFixed(digits));
export const fmtPct = (n, digits = 1) => (n === null || n === undefined ? "—" : `${Number(n).toFixed(digits)} %`);
/** Amounts arrive as decimal strings in the base currency. */
export const fmtMoney = (s) => (s === null || s === undefined ? "—" : moneyFormat.format(Number(s)));
export const fmtDate = (iso) => (iso ? String(iso).slice(0, 10) : "—");
export const fmtDateTime = (iso) => (iso ? `${String(iso).slice(0, 10)} ${String(iso).slice(11, 16)}` : "—");

/** A labelled value, with an optional line of detail under it (in a `.facts` grid). */
export const fact = (label, value, sub) => h("div", { class: "fact" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);

/**
 * A Chart.js chart on the canvas `canvasId` (pages that draw load Chart.js's UMD build first). The
 * canvas's fallback content lists the values, for screen readers: `label: value; …` with one
 * dataset, `label: name value, name value; …` with more.
 */
export function chart(canvasId, config) {
  const canvas = document.getElementById(canvasId);
  window.Chart.getChart(canvas)?.destroy();
  const { labels, datasets } = config.data;
  const value = (d, i) => d.data[i] ?? "no data";
  canvas.textContent = labels
    .map((label, i) => `${label}: ${datasets.length === 1 ? value(datasets[0], i) : datasets.map((d) => `${d.label} ${value(d, i)}`).join(", ")}`)
    .join("; ");
  const base = { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } } };
  return new window.Chart(canvas, { ...config, options: { ...base, ...config.options } });
}

export const stageBadge = (stage) => (stage ? h("span", { class: `badge ${stage}` }, stage) : h("span", { class: "muted" }, "—"));
export const customerLink = (id) => h("a", { href: `/dashboard/customers/${encodeURIComponent(id)}` }, id);

// ---- the page frame: key panel, errors, ready flag -------------------------------------------

function showKeyPanel(message) {
  document.getElementById("content").hidden = true;
  document.getElementById("key-panel").hidden = false;
  fill("key-error", message ?? "");
  fill("key-status");
  document.getElementById("api-key").focus();
}

function showKeyStatus() {
  const key = getKey();
  fill(
    "key-status",
    `key ${key.slice(0, 16)}…`,
    h("button", {
      type: "button",
      onclick: () => {
        clearKey();
        window.location.reload();
      },
    }, "Forget key"),
  );
}

/** Shows an error in the page's error box; a refused key sends the user back to the key panel. */
/** Shows a "more" button while there is a next page; a click loads it (disabled meanwhile). */
export function wireMore(button, nextCursor, load) {
  button.hidden = !nextCursor;
  button.onclick = () => {
    button.disabled = true;
    load(nextCursor).then(
      () => (button.disabled = false),
      (err) => report(err),
    );
  };
}

export function report(err) {
  if (err?.name === "AbortError") return;
  if (err?.shown) return fill("page-error", "Some parts of this page could not be loaded: see the messages below.");
  if (err instanceof ApiError && err.status === 401) {
    clearKey();
    return showKeyPanel(`The API refused this key (${err.message}). Paste another one.`);
  }
  if (err instanceof ApiError && err.status === 403) return fill("page-error", `This key lacks the read scope (${err.message}).`);
  fill("page-error", err instanceof Error ? err.message : String(err));
}

/**
 * Runs a page: asks for the key when there is none, then calls `render()`; when it settles the
 * body gets `data-state="ready"` (or "error"), which the browser test waits for.
 */
export function start(render) {
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = document.getElementById("api-key").value.trim();
    if (!key) return;
    setKey(key);
    document.getElementById("api-key").value = "";
    run();
  });
  const run = () => {
    if (!getKey()) return showKeyPanel();
    document.getElementById("key-panel").hidden = true;
    document.getElementById("content").hidden = false;
    showKeyStatus();
    document.body.dataset.state = "loading";
    Promise.resolve()
      .then(render)
      .then(
        () => (document.body.dataset.state = "ready"),
        (err) => {
          document.body.dataset.state = "error";
          report(err);
        },
      );
  };
  run();
}

/**
 * Fills one card of a page from `load()`; a failure shows in the card (other cards still render)
 * and rejects, so the page is not marked ready. A refused key goes back to the key panel.
 */
export async function card(id, load) {
  try {
    fill(id, await load());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    fill(id, h("p", { class: "error" }, err instanceof Error ? err.message : String(err)));
    if (err instanceof Error) err.shown = true;
    throw err;
  }
}

// ---- server-sent events over fetch -----------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseEventBlock(block) {
  const event = { event: "message", data: [], id: undefined, retry: undefined };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.event = value;
    else if (field === "data") event.data.push(value);
    else if (field === "id") event.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
  }
  return { ...event, data: event.data.join("\n") };
}

/**
 * Reads `path` as text/event-stream with the key, calling `onEvent({ event, data, id })` per
 * event and `onStatus("live" | "reconnecting" | "refused", detail)`; reconnects (with
 * Last-Event-ID) until `signal` aborts.
 */
export async function streamEvents(path, { onEvent, onStatus, signal }) {
  let retryMs = 2_000;
  let lastId;
  while (!signal.aborted) {
    try {
      const headers = new Headers({ authorization: `Bearer ${getKey()}`, accept: "text/event-stream" });
      if (lastId) headers.set("last-event-id", lastId);
      const res = await fetch(path, { headers, signal, cache: "no-store" });
      if (!res.ok || !res.body) throw new ApiError(res.status, await problemDetail(res));
      onStatus("live");
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = (buffer + value).replace(/\r\n?/g, "\n");
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const parsed = parseEventBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (parsed.id !== undefined) lastId = parsed.id;
          if (parsed.retry !== undefined) retryMs = parsed.retry;
          if (parsed.data) onEvent(parsed);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return onStatus("refused", err.message);
    }
    onStatus("reconnecting");
    await sleep(retryMs);
  }
}
