// The report panel's webview bundle (dist/media/report) in headless Chromium, fed a report the way the extension host
// does (a 'showReport' message) with acquireVsCodeApi stood in: the tuning section (trials, measured sensitivity),
// the per-layer table's own/local SQNR columns and the shared settings rows (bias correction) must render, with no
// page errors. The full panel inside VS Code is covered by the e2e UI test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import type { ReportView } from '../../src/protocol/report';
import { reportWithTuning } from './fixture';

const CHROMIUM = process.env.OCTET_CHROMIUM ?? '/usr/bin/chromium';
const MEDIA = resolve(process.cwd(), 'dist', 'media', 'report');
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing: install Debian's chromium to run the report panel check`
  : !existsSync(join(MEDIA, 'report.main.js')) ? 'dist/media/report/report.main.js missing (run node esbuild.mjs)' : false;

const PAGE = `<!DOCTYPE html><html><head><meta charset="UTF-8">
<link rel="stylesheet" href="/report.main.css">
<script>window.sent = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => undefined, setState: () => undefined });</script>
</head><body><main id="app"></main><script src="/report.main.js"></script></body></html>`;

describe('report panel webview in Chromium', { skip }, () => {
  let server: Server;
  let origin = '';
  let browser: Browser;

  before(async () => {
    server = createServer((req, res) => {
      const file = req.url === '/' ? null : join(MEDIA, (req.url ?? '').replace(/^\//, '').replace(/\.\./g, ''));
      if (!file) { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); return; }
      if (!existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('tuning trials, layer sensitivity, own/local SQNR columns and bias correction render', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(origin + '/');
      const view: ReportView = { report: reportWithTuning(), reportPath: '/r/model.int8.report.json', fp32ModelPath: '/r/model.onnx', int8ModelPath: '/r/model.int8.onnx' };
      await page.evaluate((v) => window.postMessage({ type: 'showReport', view: v }, '*'), view);
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
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
