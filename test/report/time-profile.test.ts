// "Where the time goes" in the Markdown and HTML reports: the section follows the report's profile and speed-aware
// choice (change a number in the report and the page changes with it), says plainly when INT8 is not faster, and a
// report without a profile renders as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeTiming, Report } from '../../src/common/report';
import { reportToHtml } from '../../src/report/html';
import { reportToMarkdown } from '../../src/report/markdown';
import { chartPayload, CHART_IDS, MAX_TIME_CHART_NODES, PAYLOAD_ID } from '../../src/report/chart-data';
import { TOP_TIME_NODES } from '../../src/report/tables';
import { realisticReport } from './fixture';
import { KEPT_FLOAT_REGION, profiledReport } from './profile-fixture';

/** The Markdown section between its heading and the next '## '. */
function mdSection(md: string): string {
  const start = md.indexOf('## Where the time goes');
  assert.ok(start >= 0, 'the section is there');
  const end = md.indexOf('\n## ', start + 5);
  return md.slice(start, end < 0 ? undefined : end);
}

/** Rows of the Markdown table whose header starts with `firstHeader`. */
function mdRows(section: string, firstHeader: string): string[][] {
  const lines = section.split('\n');
  const head = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  assert.ok(head >= 0, `table '${firstHeader}'`);
  const rows: string[][] = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(2, -2).split(/ (?<!\\)\| /));
  }
  return rows;
}

/** Independently of the renderer: the nodes by the most time they take in either model. */
function heaviestFirst(nodes: NodeTiming[]): NodeTiming[] {
  const cost = (n: NodeTiming) => Math.max(n.fp32Ms, n.int8Ms + n.overheadMs);
  return [...nodes].sort((a, b) => cost(b) - cost(a));
}

test('markdown: top nodes, op types and decisions are the report’s, in its order', () => {
  const report = profiledReport();
  const profile = report.profile!;
  const section = mdSection(reportToMarkdown(report));
  assert.match(section, /20 runs per model at batch 1 with 1 thread: kernel time per run FP32 64\.6 ms → INT8 20\.8 ms \(3\.11×\)/);
  const top = mdRows(section, 'Node');
  assert.equal(top.length, Math.min(TOP_TIME_NODES, profile.nodes.length));
  assert.deepEqual(top.map((r) => r[0]), heaviestFirst(profile.nodes).slice(0, top.length).map((n) => n.node));
  assert.deepEqual(top[0], ['/layer2/layer2.3/conv2/Conv', 'Conv', '1.85 ms', '0.617 ms', '3.00×', 'FusedConv → QLinearConv', '0 ms']);
  const ops = mdRows(section, 'Op');
  assert.deepEqual(ops.map((r) => [r[0], r[1]]), profile.byOpType.map((t) => [t.opType, String(t.count)]));
  assert.deepEqual(ops[0], ['Conv', '53', '62.9 ms', '19.9 ms', '0 ms', '3.16×', '96.0%']);
  const decisions = mdRows(section, '\\#');
  assert.equal(decisions.length, report.speed!.decisions.length);
  assert.deepEqual(decisions[0].slice(1, 3), ['keep in float', KEPT_FLOAT_REGION.join(', ').replace(/_/g, '\\_')]);
  assert.deepEqual(decisions.map((r) => r[7]), ['yes', 'no']);
  assert.match(section, /\| Kept in float for speed \| 3 nodes \|/);
  assert.doesNotMatch(section, /not faster/);
});

test('markdown: a node a later decision returned to int8 is no longer counted as kept in float', () => {
  const report = profiledReport();
  report.speed!.decisions.push({ nodes: [KEPT_FLOAT_REGION[0]], action: 'int8', reason: 'one of 2 regions kept float together, back in int8',
    beforeMs: 20.8, afterMs: 20.1, kept: true });
  const section = mdSection(reportToMarkdown(report));
  assert.match(section, /\| Kept in float for speed \| 2 nodes \|/);
  assert.deepEqual(mdRows(section, '\\#').at(-1)!.slice(1, 3), ['back in int8', KEPT_FLOAT_REGION[0].replace(/_/g, '\\_')]);
});

test('markdown and html follow the report: a changed number changes the page', () => {
  const report = profiledReport();
  const profile = report.profile!;
  // A node that was nothing special becomes the slowest in INT8: it leads the table with its new numbers.
  const victim = profile.nodes.find((n) => n.node === '/layer1/layer1.1/conv1/Conv')!;
  Object.assign(victim, { int8Ms: 7.654, overheadMs: 0.321, int8Kernels: ['Conv'] });
  profile.fp32TotalMs = 71.25;
  report.speed!.decisions[1].afterMs = 23.456;
  const md = mdSection(reportToMarkdown(report));
  const fp32 = `${victim.fp32Ms.toFixed(3)} ms`;
  assert.deepEqual(mdRows(md, 'Node')[0], ['/layer1/layer1.1/conv1/Conv', 'Conv', fp32, '7.65 ms', `${(victim.fp32Ms / 7.975).toFixed(2)}×`, 'FusedConv → Conv', '0.321 ms']);
  assert.match(md, /FP32 71\.3 ms → INT8 20\.8 ms/);
  const before = report.speed!.decisions[1].beforeMs;
  assert.ok(md.includes(`| ${before.toFixed(2)} ms | 23.46 ms | +${(23.456 - before).toFixed(2)} ms | no |`));
  const html = reportToHtml(report);
  assert.match(html, new RegExp(String.raw`<tr><td>\/<wbr>layer1\/<wbr>layer1\.1\/<wbr>conv1\/<wbr>Conv<\/td><td>Conv<\/td><td class="num" data-v="[\d.]+">${fp32}<\/td><td class="num" data-v="7\.65">7\.65 ms<\/td>`));
  const payload = JSON.parse(new RegExp(`id="${PAYLOAD_ID}">([^<]*)</script>`).exec(html)![1]) as ReturnType<typeof chartPayload>;
  assert.deepEqual(payload.time?.[0], { node: victim.node, opType: 'Conv', fp32Ms: victim.fp32Ms, int8Ms: 7.654, overheadMs: 0.321 });
});

test('html: the section with its chart, sortable top-nodes table and decisions', () => {
  const report = profiledReport();
  const html = reportToHtml(report);
  assert.ok(html.includes('<section id="time">\n<h2>Where the time goes</h2>'));
  assert.ok(html.includes('href="#time"'), 'in the navigation');
  assert.equal(html.split(`<canvas id="${CHART_IDS.time}"`).length - 1, 1);
  const payload = chartPayload(report);
  assert.equal(payload.time?.length, MAX_TIME_CHART_NODES);
  assert.deepEqual(payload.time?.map((r) => r.node), heaviestFirst(report.profile!.nodes).slice(0, MAX_TIME_CHART_NODES).map((n) => n.node));
  const section = html.slice(html.indexOf('<section id="time">'), html.indexOf('</section>', html.indexOf('<section id="time">')));
  assert.match(section, /<table class="sortable"><caption>The 20 nodes taking the most time in either model \(of 122 profiled\)/);
  assert.match(section, /<tr class="chosen"><td class="num" data-v="1">1<\/td><td>keep in float<\/td>/);
  assert.match(section, /<th scope="row">INT8 written, batch 1, one thread<\/th><td>21\.80 ms \(3\.05×\)<\/td>/);
  assert.doesNotMatch(section, /class="alert"/);
});

test('INT8 not faster than FP32: one plain sentence with the measured times and the op types that lost', () => {
  const report = profiledReport({ vnni: false });
  const speed = report.speed!;
  assert.equal(speed.fasterThanFp32, false);
  const sentence = `INT8 is not faster than FP32 on this CPU (AMD EPYC 9R14, no VNNI): FP32 ${speed.fp32Ms.toFixed(2)} ms, INT8 ${speed.int8Ms.toFixed(2)} ms at batch 1 with one thread.`;
  const md = mdSection(reportToMarkdown(report));
  assert.ok(md.includes(`**${sentence} Slower in INT8 here: Conv (FP32 62.9 ms, INT8 65.5 ms with Q/DQ)`), md.slice(0, 400));
  const html = reportToHtml(report);
  assert.ok(html.includes(`<p class="alert" role="note">${sentence} Slower in INT8 here: Conv`));
  // The same report claiming it was faster shows no such sentence.
  const claimed: Report = { ...report, speed: { ...speed, fasterThanFp32: true } };
  assert.doesNotMatch(reportToMarkdown(claimed), /not faster than FP32/);
});

test('reports without a profile or speed section render as before; speed alone still shows its decisions', () => {
  const md = reportToMarkdown(realisticReport());
  assert.doesNotMatch(md, /Where the time goes/);
  assert.equal(chartPayload(realisticReport()).time, null);
  const nullSections = { ...realisticReport(), profile: null, speed: null };
  assert.equal(reportToMarkdown(nullSections), md);
  const speedOnly = reportToMarkdown({ ...realisticReport(), speed: profiledReport().speed });
  assert.match(speedOnly, /No per-node profile in this report\./);
  assert.match(speedOnly, /### Speed-aware choice/);
  const noDecisions = reportToMarkdown({ ...profiledReport(), speed: { ...profiledReport().speed!, decisions: [] } });
  assert.match(noDecisions, /No region was slower in INT8 than in float/);
});
