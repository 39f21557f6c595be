// The report panel's webview bundle (dist/media/report) in headless Chromium, fed a report the way the extension host
// does (a 'showReport' message) with acquireVsCodeApi stood in: the tuning section (trials, measured sensitivity),
// the per-layer table's own/local SQNR columns and the shared settings rows (bias correction) must render, with no
// page errors; a profiled report gets "Where the time goes" (chart, sortable table kept in the saved state, rows that
// reveal their node, the plain sentence when INT8 is not faster). The full panel inside VS Code is covered by the e2e
// UI test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ReportPanelState, ReportView } from '../../src/protocol/report';
import { reportWithTuning } from './fixture';
import { profiledReport } from './profile-fixture';

const CHROMIUM = process.env.OCTET_CHROMIUM ?? '/usr/bin/chromium';
const MEDIA = resolve(process.cwd(), 'dist', 'media', 'report');
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing: install Debian's chromium to run the report panel check`
  : !existsSync(join(MEDIA, 'report.main.js')) ? 'dist/media/report/report.main.js missing (run node esbuild.mjs)' : false;

/** The page with acquireVsCodeApi stood in: `state` is what an earlier page saved (VS Code hands it back). */
const page = (state: unknown) => `<!DOCTYPE html><html><head><meta charset="UTF-8">
<link rel="stylesheet" href="/report.main.css">
<script>window.sent = []; window.saved = ${JSON.stringify(state ?? null).replace(/</g, '\\u003c')};
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => window.saved ?? undefined, setState: (s) => { window.saved = s; } });</script>
</head><body><main id="app"></main><script src="/report.main.js"></script></body></html>`;

const viewOf = (report: ReportView['report']): ReportView => ({ report, reportPath: '/r/model.int8.report.json', fp32ModelPath: '/r/model.onnx', int8ModelPath: '/r/model.int8.onnx' });

describe('report panel webview in Chromium', { skip }, () => {
  let server: Server;
  let origin = '';
  let browser: Browser;
  let pageState: unknown = null;

  before(async () => {
    server = createServer((req, res) => {
      const file = req.url === '/' ? null : join(MEDIA, (req.url ?? '').replace(/^\//, '').replace(/\.\./g, ''));
      if (!file) { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page(pageState)); return; }
      if (!existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    mkdirSync(join(process.cwd(), 'test-output'), { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  /**
   * A fresh page, re-created from `state` (as VS Code does after hide/show) or sent `report` the way the host does
   * (a 'showReport' message); `errors` collects its uncaught errors.
   */
  async function open(report: ReportView['report'] | null, state: unknown = null): Promise<{ tab: Page; errors: string[] }> {
    pageState = state;
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(origin + '/');
    if (report) await tab.evaluate((v) => window.postMessage({ type: 'showReport', view: v }, '*'), viewOf(report));
    return { tab, errors };
  }

  test('tuning trials, layer sensitivity, own/local SQNR columns and bias correction render', async () => {
    const { tab: page, errors } = await open(reportWithTuning());
    try {
      await page.waitForSelector('#tuning-trials');
      assert.equal(await page.locator('#tuning-trials tbody tr').count(), 3, 'one row per trial');
      assert.match(await page.locator('#tuning-facts').innerText(), /Bound met\s+yes/);
      const sensitivity = await page.locator('#sensitivity-table tbody tr').allInnerTexts();
      assert.equal(sensitivity.length, 3);
      assert.match(sensitivity[0], /\/conv1\/Conv\s+\+12\.5 dB/);
      assert.match(sensitivity[1], /<b>\|fc<\/b>/, 'node names are text, not markup');
      const headers = await page.locator('#layer-table thead th').allInnerTexts();
      assert.ok(headers.some((h) => h.startsWith('Own SQNR')) && headers.some((h) => h.startsWith('Q/DQ SQNR')), headers.join(' | '));
      assert.match(await page.locator('#settings-table').innerText(), /Bias correction\s+yes, 20 layers/);
      assert.equal(await page.locator('#time').count(), 0, 'no profile: no time section, the page as before');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('where the time goes: chart, every node in a table that sorts, keeps its sort across hide/show and reveals nodes', async () => {
    const report = profiledReport();
    const profile = report.profile!;
    let { tab, errors } = await open(report);
    try {
      await tab.waitForSelector('#time-table');
      assert.match(await tab.locator('#time h2').innerText(), /Where the time goes/);
      assert.equal(await tab.locator('#not-faster').count(), 0, 'INT8 is faster here: no warning');
      assert.match(await tab.locator('#profile-summary').innerText(), /FP32 64\.6 ms → INT8 20\.8 ms \(3\.11×\)/);
      assert.equal(await tab.locator('#time-table tbody tr').count(), profile.nodes.length, 'every profiled node');
      assert.equal(await tab.locator('#time-ops-table tbody tr').count(), profile.byOpType.length);
      assert.equal(await tab.locator('#speed-decisions tbody tr').count(), report.speed!.decisions.length);
      // The chart drew bars: some of its pixels are FP32 blue (the theme's fallback colour here).
      await tab.waitForFunction(() => {
        const c = document.getElementById('time-chart') as HTMLCanvasElement | null;
        if (!c || c.width === 0) return false;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i] === 0x37 && d[i + 1] === 0x94 && d[i + 2] === 0xff) return true;
        return false;
      }, undefined, { timeout: 5000 });

      const firstRow = () => tab.locator('#time-table tbody tr').first().getAttribute('data-node');
      const slowestInt8 = [...profile.nodes].sort((a, b) => b.int8Ms - a.int8Ms)[0].node;
      assert.equal(await firstRow(), slowestInt8, 'sorted by INT8 time, most first, by default');
      await tab.locator('#time-table th[data-column="gain"]').click();
      const bestGain = [...profile.nodes].filter((n) => n.fp32Ms > 0 && n.int8Ms + n.overheadMs > 0)
        .sort((a, b) => b.fp32Ms / (b.int8Ms + b.overheadMs) - a.fp32Ms / (a.int8Ms + a.overheadMs))[0].node;
      assert.equal(await firstRow(), bestGain, 'gain, highest first');
      await tab.locator('#time-table th[data-column="gain"]').click();
      assert.equal(await tab.locator('#time-table th[data-column="gain"]').getAttribute('aria-sort'), 'ascending');
      const saved = await tab.evaluate(() => (window as unknown as { saved: ReportPanelState }).saved);
      assert.deepEqual(saved.timeSort, { column: 'gain', descending: false }, 'the sort is in the webview state');
      await tab.locator('#time-table tbody tr').nth(2).click();
      const row = await tab.locator('#time-table tbody tr').nth(2).getAttribute('data-node');
      const sent = await tab.evaluate(() => (window as unknown as { sent: unknown[] }).sent);
      assert.deepEqual(sent[sent.length - 1], { type: 'revealNode', node: row });
      await tab.close();

      // Hidden and shown again: VS Code re-creates the page with the saved state; it renders from it, sort included.
      const firstErrors = errors;
      ({ tab, errors } = await open(null, saved));
      await tab.waitForSelector('#time-table');
      assert.equal(await tab.locator('#time-table th[data-column="gain"]').getAttribute('aria-sort'), 'ascending');
      assert.deepEqual([...firstErrors, ...errors], []);
    } finally {
      await tab.close();
    }
  });

  test('INT8 not faster than FP32: the panel says so plainly, above the profile', async () => {
    const report = profiledReport({ vnni: false });
    const { tab, errors } = await open(report);
    try {
      await tab.waitForSelector('#not-faster');
      const text = await tab.locator('#not-faster').innerText();
      assert.ok(text.startsWith(`INT8 is not faster than FP32 on this CPU (AMD EPYC 9R14, no VNNI): FP32 ${report.speed!.fp32Ms.toFixed(2)} ms, INT8 ${report.speed!.int8Ms.toFixed(2)} ms`), text);
      assert.match(text, /Slower in INT8 here: Conv/);
      await tab.locator('#time').screenshot({ path: join(process.cwd(), 'test-output', 'report-panel-time-slower.png') });
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });
});
