// Report → self-contained HTML: one file, no network, Chart.js inlined, a canvas per chart, every name escaped,
// the chart data embedded as inert JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportToHtml, scriptJson, inlineScript, reportCsp } from '../../src/report/html';
import { chartPayload, CHART_IDS, MAX_CHART_LAYERS, PAYLOAD_ID } from '../../src/report/chart-data';
import { NASTY_NODE, realisticReport, reportWithThroughput, reportWithTuning } from './fixture';

function payloadOf(html: string): ReturnType<typeof chartPayload> {
  const match = new RegExp(`<script type="application/json" id="${PAYLOAD_ID}">([^<]*)</script>`).exec(html);
  assert.ok(match, 'chart payload present');
  return JSON.parse(match[1]) as ReturnType<typeof chartPayload>;
}

test('html is one self-contained page: strict CSP, no external resources, Chart.js inlined', () => {
  const html = reportToHtml(realisticReport());
  assert.match(html, /^<!DOCTYPE html>/);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
  const nonce = /'nonce-([A-Za-z0-9+/=]{16,})'/.exec(csp)?.[1] ?? '';
  assert.equal(csp, reportCsp(nonce));
  assert.equal(csp, `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src data:`);
  assert.doesNotMatch(csp, /unsafe-inline/, 'no unsafe-inline: escaping is not the only defence');
  assert.notEqual(nonce, /'nonce-([^']*)'/.exec(reportToHtml(realisticReport()))?.[1], 'a fresh nonce per page');
  assert.doesNotMatch(html, /\sstyle="/, 'no style attributes (the CSP refuses them)');
  assert.equal([...html.matchAll(/<(script|style)\b(?![^>]*type="application\/json")([^>]*)>/g)].filter((m) => !m[2].includes(`nonce="${nonce}"`)).length, 0,
    'every style and script element carries the nonce');
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /\bsrc\s*=\s*["']?(https?:)?\/\//i, 'no src=http(s) or protocol-relative src');
  assert.doesNotMatch(html, /<script[^>]*\bsrc=/i, 'no external scripts');
  assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/i, 'no external CSS');
  assert.match(html, /prefers-color-scheme: dark/);
  // the chart library itself is in the page (its license banner and its code), not a reference to it
  assert.match(html, /Chart\.js v4\.\d+\.\d+/);
  assert.match(html, /Released under the MIT License/);
  assert.ok(html.length > 150_000, `Chart.js is bundled (${html.length} chars)`);
  const scripts = [...html.matchAll(/<script nonce="[^"]*">([^]*?)<\/script>/g)];
  assert.equal(scripts.length, 1, 'one inline script');
  assert.doesNotMatch(scripts[0][1], /<\/script/i);
});

test('html has a canvas per chart and the tables with the numbers', () => {
  const html = reportToHtml(realisticReport());
  for (const id of [CHART_IDS.layers, CHART_IDS.latency, CHART_IDS.accuracy]) assert.equal(html.split(`<canvas id="${id}"`).length - 1, 1, id);
  assert.equal(html.split('<canvas').length - 1, 3, 'no time chart without a profile');
  assert.ok(!html.includes('<section id="time">'), 'a report without a profile renders as before');
  for (const id of ['accuracy', 'latency', 'layers', 'kept', 'runtime-ops', 'model', 'settings', 'machine']) {
    assert.ok(html.includes(`<section id="${id}">`), id);
    assert.ok(html.includes(`href="#${id}"`), `nav link ${id}`);
  }
  assert.ok(!html.includes('<section id="tuning">'));
  assert.match(html, /<td>Top-1<\/td><td class="num" data-v="80\.25">80\.25%<\/td><td class="num" data-v="81\.5">81\.50%<\/td><td class="num" data-v="-1\.25">−1\.25 pts<\/td>/);
  assert.match(html, /<td class="num" data-v="6\.08">6\.08×<\/td>/);
  assert.match(html, /<th scope="row">VNNI<\/th><td>no<\/td>/);
  assert.match(html, /<th scope="row">ONNX Runtime<\/th><td>1\.30\.0<\/td>/);
  assert.match(html, /<th scope="row">Opset<\/th><td>13<\/td><td>13<\/td>/);
  assert.match(html, /<td>QLinearConv<\/td><td class="num" data-v="19">19<\/td>/);
  assert.match(html, /no int8 kernel for this op type/);
  assert.match(html, /<li>This CPU has no VNNI: ONNX Runtime&#39;s U8S8 kernels/);
  // the low-SQNR layer is flagged, the others are not
  assert.equal(html.split('<tr class="low">').length - 1, 1);

  const payload = payloadOf(html);
  assert.deepEqual(payload.layers.map((l) => l.sqnrDb), [17.25, 23.433, 24.298, 24.637, 25.912, 28.07, 29.87, 38.91], 'worst first');
  assert.deepEqual(payload.latency.map((l) => [l.label, l.fp32.medianMs, l.int8.p90Ms]), [['1 thread', 2.047, 2.784], ['2 threads', 11.13, 21.25]]);
  assert.deepEqual(payload.accuracy, { labelled: true, categories: ['Top-1', 'Top-5'], fp32: [80.25, 98.5], int8: [81.5, 98.75] });
});

test('html shows throughput at batch 8: a headline card, table columns, chart tooltip data; speedup cards stay batch 1', () => {
  const card = (label: string, value: string) => `<div class="card"><div class="label">${label}</div><div class="value">${value}</div>`;
  const html = reportToHtml(reportWithThroughput());
  assert.ok(html.includes(card('Speedup, 1 thread', '1.26×')), 'single-thread speedup card is batch 1');
  assert.ok(html.includes(card('Speedup, 2 threads', '6.08×')), 'all-threads speedup card is batch 1, not batch 8 (2.50×)');
  assert.ok(!html.includes(card('Speedup, 2 threads, batch 8', '2.50×')));
  assert.ok(html.includes(`${card('Throughput, 2 threads, batch 8', '1923 img/s')}<div class="detail">FP32 769 img/s → INT8 1923 img/s (2.50×)</div>`));
  assert.match(html, /<th scope="col" class="num">FP32 throughput<\/th><th scope="col" class="num">INT8 throughput<\/th><\/tr>/);
  assert.match(html, /<td class="num" data-v="2\.5">2\.50×<\/td><td class="num" data-v="769">769 img\/s<\/td><td class="num" data-v="1923">1923 img\/s<\/td><\/tr>/);
  const payload = payloadOf(html);
  assert.deepEqual(payload.latency.map((l) => [l.label, l.throughput]), [
    ['1 thread', { fp32: 488.52, int8: 616.14 }], ['2 threads', { fp32: 89.85, int8: 546.45 }], ['2 threads, batch 8', { fp32: 769.23, int8: 1923.08 }],
  ]);

  // an older report (no throughput): no card, empty cells, null in the chart data
  const old = reportToHtml(realisticReport());
  assert.ok(!old.includes('Throughput, '));
  assert.match(old, /<td class="num" data-v="6\.08">6\.08×<\/td><td class="num" data-v="">—<\/td><td class="num" data-v="">—<\/td><\/tr>/);
  assert.deepEqual(payloadOf(old).latency.map((l) => l.throughput), [null, null]);
});

test('html escapes names from user models, in markup and in the embedded JSON', () => {
  const html = reportToHtml(realisticReport());
  assert.ok(!html.includes(NASTY_NODE));
  assert.doesNotMatch(html, /<script>alert|<b>2<\/b>/);
  assert.ok(html.includes('<td>/<wbr>evil|node/<wbr>&lt;script&gt;alert(&quot;x&quot;)&lt;/<wbr>script&gt;&amp;amp;</td>'), 'escaped, with break hints');
  assert.ok(html.includes('<td>pad|&lt;b&gt;2&lt;/b&gt;</td>'));
  // the payload carries the raw name, but no '<' that could close the <script> element
  const raw = new RegExp(`id="${PAYLOAD_ID}">([^]*?)</script>`).exec(html)?.[1] ?? '';
  assert.doesNotMatch(raw, /[<>]/);
  assert.equal(payloadOf(html).layers[0].node, NASTY_NODE);
  assert.equal(scriptJson({ a: '</script><!--\u2028' }), '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028"}');
  assert.equal(inlineScript('x="</SCRIPT>"'), 'x="<\\/SCRIPT>"');
});

test('html for sparse reports, large models and a tuning section', () => {
  const base = realisticReport();
  const bare = reportToHtml({ ...base, accuracy: null, bench: [], layers: [], keptFloat: [], warnings: [], int8RuntimeOps: {}, optimizedFp32Ops: {} });
  assert.equal(bare.split('<canvas').length - 1, 0, 'no empty charts');
  assert.match(bare, /Not evaluated\./);
  assert.match(bare, /Not benchmarked\./);
  assert.match(bare, /No per-layer measurements\./);

  const unlabelled = reportToHtml({ ...base, accuracy: { ...base.accuracy!, labelled: false, fp32: null, int8: null, top1DropPoints: null } });
  assert.deepEqual(payloadOf(unlabelled).accuracy, { labelled: false, categories: ['Top-1 agreement with FP32'], fp32: [100], int8: [96.75] });
  assert.match(unlabelled, /no labels: INT8 is compared with FP32 outputs only/);

  const many = Array.from({ length: 400 }, (_, i) => ({ ...base.layers[0], node: `n${i}`, sqnrDb: 40 - i / 20 }));
  const big = reportToHtml({ ...base, layers: many });
  const payload = payloadOf(big);
  assert.equal(payload.layers.length, MAX_CHART_LAYERS);
  assert.equal(payload.totalLayers, 400);
  assert.equal(payload.layers[0].node, 'n399');
  assert.match(big, new RegExp(`The chart shows the ${MAX_CHART_LAYERS} worst of 400 layers`));
  assert.equal(big.match(/<td>n\d+<\/td>/g)?.length, 400, 'the table has every layer');

  const tuned = reportToHtml(reportWithTuning());
  assert.ok(tuned.includes('<section id="tuning">'));
  assert.ok(tuned.includes('<td>exclude &lt;b&gt;|fc&lt;/b&gt;</td>'));
  assert.match(tuned, /<th scope="row">Bound<\/th><td>top-1 drop ≤ 0\.50 pts<\/td>/);
  assert.match(tuned, /<tr class="chosen"><td class="num" data-v="2">2<\/td><td>method=mse<\/td>/);
});
