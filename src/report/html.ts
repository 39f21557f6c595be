// The Report as one self-contained HTML page (`octet report --format html`): inline CSS, inline script (Chart.js and
// html-page.ts, bundled at build time), the chart data as inline JSON; no network (strict CSP), light and dark.
// Pure (Report → string). Everything from the report is HTML-escaped; the JSON payload is escaped for <script>.
import { htmlEscape, htmlPageStart } from './html-head';
import { randomBytes } from 'node:crypto';
import pageScript from 'octet:report-page';
import type { Report } from '../common/report';
import { CHART_IDS, chartPayload, PAYLOAD_ID } from './chart-data';
import {
  accuracyTable, agreementTable, outputsTable, headlineFacts, keptFloatTable, latencyTable, layersTable, machineTable, modelTable, NO_PROFILE,
  NO_SPEED_DECISIONS, notFasterSentence, profileSummary, readTimeSection, readTuning, reportTitle, runtimeOpsTable, sensitivityTable,
  settingsTable, paddedInputsSentence, SPEED_DECISIONS_CAPTION, speedDecisionsTable, speedFacts, Table, TIME_BY_OP_CAPTION, timeByOpTable, timeNodesCaption,
  timeNodesTable, tuningTable,
} from './tables';

/** The page's CSP: only the <style> and <script> carrying this page's nonce apply; nothing inline without it, no network. */
export function reportCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src data:`;
}

/** Names longer than this are shown shortened (start…end), the full text in a tooltip. */
export const MAX_SHOWN_CHARS = 120;

export { htmlEscape };

/** JSON that is safe inside <script type="application/json">: no '<', '>', '&' or line separators left raw. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** JavaScript source made safe to inline in <script>: a literal '</script' would end the element early. */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}

/** `text` cut to at most `max` characters around an ellipsis (its start and end kept, where names differ most). */
export function shorten(text: string, max = MAX_SHOWN_CHARS): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) * 0.6);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/**
 * Escaped text; a long one shortened (start…end) with the full text in a tooltip. `breakable`: line-break opportunities
 * after '/' and '_' in long names (no mid-word breaks needed).
 */
function shown(text: string, { max = MAX_SHOWN_CHARS, breakable = false }: { max?: number; breakable?: boolean } = {}): string {
  const whole = text.length <= max;
  const escaped = htmlEscape(whole ? text : shorten(text, max));
  const html = breakable && text.length > 20 ? escaped.replace(/([/_])(?=[^\s])/g, '$1<wbr>') : escaped;
  return whole ? html : `<span title="${htmlEscape(text)}">${html}</span>`;
}

const cellText = (text: string): string => shown(text, { breakable: true });

/** Warnings are sentences that may quote a name: shortened only past a few lines. */
const MAX_WARNING_CHARS = 600;

/** The number a formatted cell starts with ("31.5 dB" → 31.5, "−0.25 pts" → -0.25), for sorting; '' when none. */
function sortValue(text: string): string {
  const match = /^[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?/i.exec(text.trim());
  return match ? String(Number(match[0].replace('−', '-'))) : '';
}

function table(t: Table, options: { className?: string; caption?: string; rowClass?: (row: string[]) => string | null } = {}): string {
  const numeric = new Set(t.numeric ?? []);
  const nowrap = new Set(t.nowrap ?? []);
  const rowAttr = (row: string[]) => {
    const cls = options.rowClass?.(row);
    return cls ? ` class="${cls}"` : '';
  };
  const head = t.header.map((h, i) => `<th scope="col"${numeric.has(i) ? ' class="num"' : ''}>${htmlEscape(h)}</th>`).join('');
  const body = t.rows.map((row) => `<tr${rowAttr(row)}>${row.map((cell, i) => (numeric.has(i)
    ? `<td class="num" data-v="${sortValue(cell)}">${htmlEscape(cell)}</td>`
    : `<td${nowrap.has(i) ? ' class="nw"' : ''}>${cellText(cell)}</td>`)).join('')}</tr>`).join('\n');
  const cls = options.className ? ` class="${options.className}"` : '';
  const caption = options.caption ? `<caption>${htmlEscape(options.caption)}</caption>` : '';
  return `<div class="table-wrap"><table${cls}>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** Two-column key/value table (first column as row headers). */
function facts(t: Table): string {
  const rows = t.rows.map(([key, ...values]) => `<tr><th scope="row">${htmlEscape(key ?? '')}</th>${values.map((v) => `<td>${cellText(v)}</td>`).join('')}</tr>`);
  const head = t.header.some((h) => h !== '') ? `<thead><tr>${t.header.map((h) => `<th scope="col">${htmlEscape(h)}</th>`).join('')}</tr></thead>` : '';
  return `<div class="table-wrap"><table class="facts">${head}<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${htmlEscape(title)}</h2>\n${body}\n</section>`;
}

/** A chart's box; its height goes into the page's (nonce-carrying) stylesheet, as the CSP refuses style attributes. */
function chart(id: string, label: string, heightPx: number, css: string[]): string {
  css.push(`#${id}-box { height: ${Math.round(heightPx)}px; }`);
  return `<div class="chart" id="${id}-box"><canvas id="${id}" role="img" aria-label="${htmlEscape(label)}"></canvas></div>`;
}

function note(text: string): string {
  return `<p class="note">${htmlEscape(text)}</p>`;
}

/** Where the time goes: the plain verdict when INT8 did not pay, the profile (chart, top nodes, op types), the speed-aware choice. */
function timeSection(report: Report, payloadRows: number, chartCss: string[]): string | null {
  const time = readTimeSection(report);
  if (!time) return null;
  const parts: string[] = [];
  const notFaster = notFasterSentence(report);
  if (notFaster) parts.push(`<p class="alert" role="note">${htmlEscape(notFaster)}</p>`);
  const padded = paddedInputsSentence(report);
  if (padded) parts.push(note(padded));
  if (time.profile) {
    const nodes = timeNodesTable(time.profile);
    parts.push(note(profileSummary(time.profile)),
      chart(CHART_IDS.time, 'Nodes taking the most time, FP32 vs INT8 (ms per run)', Math.max(200, payloadRows * 30 + 90), chartCss),
      table(nodes, { className: 'sortable', caption: `${timeNodesCaption(nodes.rows.length, time.profile)} Click a header to sort.` }),
      table(timeByOpTable(time.profile), { caption: TIME_BY_OP_CAPTION }));
  } else {
    parts.push(note(NO_PROFILE));
  }
  if (time.speed) {
    const decisions = speedDecisionsTable(time.speed);
    const kept = decisions ? decisions.header.indexOf('Kept') : -1;
    parts.push('<h3>Speed-aware choice</h3>', facts({ header: ['', ''], rows: speedFacts(time.speed) }),
      decisions ? table(decisions, { caption: SPEED_DECISIONS_CAPTION, rowClass: (row) => (row[kept] === 'yes' ? 'chosen' : null) }) : note(NO_SPEED_DECISIONS));
  }
  return parts.join('\n');
}

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #57606a; --card: #f6f8fa; --border: #d0d7de;
  --grid: rgba(31, 35, 40, 0.12); --accent: #0969da; --bad: #d1242f; --warn-bg: #fff8c5; --warn-border: #d4a72c; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --card: #161b22; --border: #30363d; --grid: rgba(230, 237, 243, 0.12);
    --accent: #4493f8; --bad: #f85149; --warn-bg: #2e2a1a; --warn-border: #9e6a03; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 24px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.25em; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--border); }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.sub { color: var(--muted); margin: 0 0 16px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 8px 0 0; font-size: 0.92em; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 0.85em; }
.card .value { font-size: 1.6em; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: 0.85em; overflow-wrap: anywhere; }
.warnings { background: var(--warn-bg); border: 1px solid var(--warn-border); border-radius: 8px; padding: 8px 16px 8px 32px; margin: 16px 0; }
.warnings li { margin: 4px 0; }
.chart { position: relative; width: 100%; margin: 8px 0 16px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; align-items: start; }
@media (max-width: 800px) { .grid2 { grid-template-columns: minmax(0, 1fr); } }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 0.92em; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { border: 1px solid var(--border); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--card); position: sticky; top: 0; }
td { overflow-wrap: break-word; max-width: 420px; }
.num { text-align: right; white-space: nowrap; }
.nw { white-space: nowrap; }
table.facts th[scope=row] { background: var(--card); font-weight: 500; white-space: nowrap; }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable thead th[aria-sort=descending]::after { content: " ▼"; }
#layers td:first-child, #kept td:first-child, #time td:first-child { min-width: 16em; }
tr.low td { color: var(--bad); }
tr.chosen td { font-weight: 600; }
.alert { background: var(--warn-bg); border: 1px solid var(--warn-border); border-radius: 8px; padding: 8px 14px; }
.note { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; }
@media print { nav { display: none; } .chart, table { break-inside: avoid; } thead th { position: static; } }
`;

/** `nonce`: the CSP nonce of the page's style and script (random unless given, e.g. by a test). */
export function reportToHtml(report: Report, options: { nonce?: string } = {}): string {
  const nonce = options.nonce ?? randomBytes(18).toString('base64');
  const title = reportTitle(report);
  const payload = chartPayload(report);
  const chartCss: string[] = [];
  const parts: string[] = [];
  const sections: [string, string][] = [];
  const add = (id: string, heading: string, body: string) => { sections.push([id, heading]); parts.push(section(id, heading, body)); };

  const cards = headlineFacts(report).map((f) => `<div class="card"><div class="label">${htmlEscape(f.label)}</div>`
    + `<div class="value">${shown(f.value)}</div><div class="detail">${shown(f.detail)}</div></div>`).join('\n');
  const warnings = Array.isArray(report.warnings) ? report.warnings.filter((w) => typeof w === 'string') : [];
  const warningList = warnings.length > 0
    ? `<ul class="warnings" aria-label="Warnings">${warnings.map((w) => `<li>${shown(w, { max: MAX_WARNING_CHARS })}</li>`).join('\n')}</ul>`
    : '';

  // Accuracy
  const acc = accuracyTable(report);
  const agreement = agreementTable(report);
  if (!agreement) add('accuracy', 'Accuracy', note('Not evaluated.'));
  else {
    const tables = (acc ? table(acc) : note('The evaluation data had no labels: INT8 is compared with FP32 outputs only.')) + facts(agreement);
    const outputs = outputsTable(report);
    add('accuracy', 'Accuracy', `<div class="grid2"><div>${chart(CHART_IDS.accuracy, 'Accuracy, FP32 vs INT8', 260, chartCss)}</div><div>${tables}</div></div>`
      + (outputs ? table(outputs) : ''));
  }

  // Latency
  const latency = latencyTable(report);
  add('latency', 'Latency', latency
    ? chart(CHART_IDS.latency, 'Latency per thread count and batch, FP32 vs INT8 (median and p90)', 280, chartCss) + table(latency)
    : note('Not benchmarked.'));

  const time = timeSection(report, payload.time?.length ?? 0, chartCss);
  if (time) add('time', 'Where the time goes', time);

  // Per-layer error
  const layers = layersTable(report);
  if (!layers) add('layers', 'Per-layer error', note('No per-layer measurements.'));
  else {
    const shownLayers = payload.layers.length;
    const caption = shownLayers < payload.totalLayers ? note(`The chart shows the ${shownLayers} worst of ${payload.totalLayers} layers; the table has all of them.`) : '';
    const sqnrColumn = layers.header.indexOf('SQNR');
    const body = table(layers, {
      className: 'sortable',
      caption: 'Accumulated FP32-vs-INT8 error at each quantized output, worst SQNR first. Own SQNR: the error the node adds itself (lower adds more); Q/DQ SQNR: its output’s own rounding and clipping on FP32 values. Click a header to sort.',
      rowClass: (row) => {
        const sqnr = sortValue(row[sqnrColumn] ?? '');
        return sqnr !== '' && Number(sqnr) < payload.lowSqnrDb ? 'low' : null;
      },
    });
    const sensitive = sensitivityTable(report);
    const effect = sensitive ? table(sensitive.table, { caption: `Effect on the output, measured: output SQNR gained when each layer alone returns to FP32 (${sensitive.table.rows.length} most sensitive of ${sensitive.measured} measured).` }) : '';
    add('layers', 'Per-layer error', `${caption}${chart(CHART_IDS.layers, 'Per-layer SQNR, worst first, coloured by op type', Math.max(200, shownLayers * 17 + 90), chartCss)}${body}${effect}`);
  }

  const kept = keptFloatTable(report);
  add('kept', 'Kept in FP32', kept ? table(kept) : note('Every quantizable op was quantized.'));

  const ops = runtimeOpsTable(report);
  add('runtime-ops', 'Ops ONNX Runtime runs', ops
    ? note('The INT8 model as ONNX Runtime optimizes it (QLinearConv and friends: what actually runs), next to the FP32 model after basic optimization.') + table(ops, { className: 'sortable' })
    : note('No op histogram in this report.'));

  const tuning = readTuning(report);
  if (tuning) {
    const trials = tuningTable(tuning);
    const chosen = trials ? trials.header.indexOf('Chosen') : -1;
    add('tuning', 'Tuning', (tuning.facts.length > 0 ? facts({ header: ['', ''], rows: tuning.facts }) : '')
      + (trials ? table(trials, { caption: 'One row per trial; the chosen one was written.', rowClass: (row) => (row[chosen] === 'yes' ? 'chosen' : null) }) : ''));
  }

  add('model', 'Model', facts(modelTable(report)));
  add('settings', 'Settings', facts({ ...settingsTable(report), header: ['', ''] }));
  add('machine', 'Machine', facts({ ...machineTable(report), header: ['', ''] }));

  const nav = `<nav aria-label="Sections">${sections.map(([id, heading]) => `<a href="#${id}">${htmlEscape(heading)}</a>`).join('')}</nav>`;
  return `${htmlPageStart({ csp: reportCsp(nonce), title: shorten(title), head: `<meta name="color-scheme" content="light dark">
<meta name="generator" content="Octet ${htmlEscape(report.octetVersion)}">
<style nonce="${nonce}">${STYLE}${chartCss.join('\n')}</style>` })}
</head>
<body>
<main>
<header>
<h1>${shown(title)}</h1>
<p class="sub">FP32 <code>${shown(report.fp32Model.path)}</code> → INT8 <code>${shown(report.int8Model.path)}</code><br>
Created ${htmlEscape(report.createdAt)} by Octet ${htmlEscape(report.octetVersion)} · ${htmlEscape(report.settings.method)} calibration, ${htmlEscape(report.settings.activations)} activations, ${report.settings.perChannel ? 'per-channel' : 'per-tensor'} weights</p>
${nav}
</header>
<div class="cards">${cards}</div>
${warningList}
${parts.join('\n')}
<footer>Generated by Octet ${htmlEscape(report.octetVersion)} from report schema ${htmlEscape(report.schemaVersion)}. Charts: Chart.js (MIT License).</footer>
</main>
<script type="application/json" id="${PAYLOAD_ID}">${scriptJson(payload)}</script>
<script nonce="${nonce}">${inlineScript(pageScript)}</script>
</body>
</html>
`;
}
