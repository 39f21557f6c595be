// The HTML report in a real browser (Debian's Chromium via playwright-core): opened from a file with every network
// request refused, it draws its charts (non-blank canvases) with no console errors or CSP violations, in light and
// dark (the time chart too: the report is profiled), and its per-layer and per-node time tables sort. Screenshots go
// to test-output/report-html.png (and -dark.png).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { reportToHtml } from '../../src/report/html';
import { CHART_IDS } from '../../src/report/chart-data';
import { tempDir } from '../fixtures/models';
import { realisticReport, reportWithTuning } from './fixture';
import { profiledReport } from './profile-fixture';

const CHROMIUM = process.env.OCTET_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const OUT = join(process.cwd(), 'test-output');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium to run the browser check of the HTML report`;

interface Opened { page: Page; problems: string[]; requests: string[] }

describe('HTML report in Chromium', { skip }, () => {
  let browser: Browser;
  let file: string;

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    file = join(tempDir('octet-report-html-'), 'r20.int8.report.html');
    const { profile, speed } = profiledReport();
    writeFileSync(file, reportToHtml({ ...reportWithTuning(), profile, speed }));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });

  after(async () => {
    await browser?.close();
  });

  async function open(colorScheme: 'light' | 'dark', path = file): Promise<Opened> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      // inkPerCanvas's own getImageData readbacks make Chromium suggest willReadFrequently: the test's doing, not the page's
      if (message.type() === 'warning' && /willReadFrequently/.test(message.text())) return;
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(path).href);
    await page.waitForFunction(() => document.documentElement.dataset.octetCharts !== undefined, undefined, { timeout: 15_000 });
    return { page, problems, requests };
  }

  /** Share of each chart canvas's pixels that something was drawn on. */
  async function inkPerCanvas(page: Page): Promise<Record<string, number>> {
    return page.evaluate((ids) => {
      const out: Record<string, number> = {};
      for (const id of ids) {
        const canvas = document.getElementById(id) as HTMLCanvasElement | null;
        const ctx = canvas?.getContext('2d');
        if (!canvas || !ctx || canvas.width === 0 || canvas.height === 0) { out[id] = 0; continue; }
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink += 1;
        out[id] = ink / (canvas.width * canvas.height);
      }
      return out;
    }, Object.values(CHART_IDS));
  }

  test('charts render offline, with no console errors, and the page follows light/dark', async () => {
    const light = await open('light');
    try {
      assert.equal(await light.page.evaluate(() => document.documentElement.dataset.octetCharts), String(Object.keys(CHART_IDS).length));
      const ink = await inkPerCanvas(light.page);
      for (const id of Object.values(CHART_IDS)) assert.ok(ink[id] > 0.01, `${id} has drawn pixels (${(ink[id] * 100).toFixed(2)}%)`);
      // the bars are there in the op-type colours (Conv is the palette's 2nd colour after Add, sorted by name)
      const sqnrBars = await light.page.evaluate((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const colours = new Set<string>();
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] === 255) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
        return { add: colours.has('78,121,167'), conv: colours.has('242,142,43') };
      }, CHART_IDS.layers);
      assert.deepEqual(sqnrBars, { add: true, conv: true }, 'per-layer bars coloured by op type');
      const timeBars = await light.page.evaluate((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let fp32 = 0;
        let int8 = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] !== 255) continue;
          const rgb = `${data[i]},${data[i + 1]},${data[i + 2]}`;
          if (rgb === '78,121,167') fp32++;
          else if (rgb === '242,142,43') int8++;
        }
        return { fp32, int8 };
      }, CHART_IDS.time);
      // ResNet-50's heaviest nodes are ~3× faster in INT8: the FP32 bars cover about three times the INT8 bars' pixels.
      assert.ok(timeBars.int8 > 100 && timeBars.fp32 / timeBars.int8 > 2 && timeBars.fp32 / timeBars.int8 < 4.5, JSON.stringify(timeBars));
      assert.deepEqual(light.problems, [], 'no console errors or CSP violations');
      assert.deepEqual(light.requests, [], 'no network requests');
      assert.equal(await light.page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
      await light.page.screenshot({ path: join(OUT, 'report-html.png'), fullPage: true });
    } finally {
      await light.page.context().close();
    }

    const dark = await open('dark');
    try {
      const ink = await inkPerCanvas(dark.page);
      for (const id of Object.values(CHART_IDS)) assert.ok(ink[id] > 0.01, `${id} drawn in dark mode`);
      assert.deepEqual(dark.problems, []);
      assert.equal(await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(13, 17, 23)');
      await dark.page.screenshot({ path: join(OUT, 'report-html-dark.png'), fullPage: true });
    } finally {
      await dark.page.context().close();
    }
  });

  test('per-layer table sorts by a column and back', async () => {
    const { page, problems } = await open('light');
    try {
      const firstNode = () => page.evaluate(() => document.querySelector('#layers tbody tr td')?.textContent ?? '');
      assert.match(await firstNode(), /^\/evil\|node\/<script>/, 'worst first, the name shown as text');
      const sqnrHeader = page.locator('#layers thead th', { hasText: /^SQNR/ });
      await sqnrHeader.click();
      assert.match(await firstNode(), /^\/evil/, 'ascending SQNR: worst first');
      await sqnrHeader.click();
      assert.equal(await firstNode(), '/conv1/Conv', 'descending SQNR: best first');
      assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([type])').length), 1, 'the node name did not become a script');
      assert.deepEqual(problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('the per-node time table sorts by INT8 time', async () => {
    const { page, problems } = await open('light');
    try {
      const firstNode = () => page.evaluate(() => document.querySelector('#time table.sortable tbody tr td')?.textContent ?? '');
      assert.equal(await firstNode(), '/layer2/layer2.3/conv2/Conv', 'most time first');
      const int8 = page.locator('#time table.sortable thead th', { hasText: /^INT8$/ });
      await int8.click();
      assert.equal(await firstNode(), '/layer3/layer3.0/downsample/downsample.0/Conv', 'ascending INT8: the fastest of the top nodes first');
      await int8.click();
      assert.equal(await firstNode(), '/conv1/Conv', 'descending INT8: the first conv (2.2× gain only) costs the most');
      assert.deepEqual(problems, []);
    } finally {
      await page.context().close();
    }
  });

  test('the CSP refuses a script or style attribute without the page nonce: escaping is not the only defence', async () => {
    // As if a name had slipped through escaping: the injected markup cannot carry the page's fresh nonce.
    const injected = join(tempDir('octet-report-csp-'), 'injected.html');
    writeFileSync(injected, reportToHtml(realisticReport()).replace('</main>',
      '<script>document.documentElement.dataset.injected = "ran"</script><p id="styled" style="color: rgb(255, 0, 0)">x</p></main>'));
    const { page, problems } = await open('light', injected);
    try {
      assert.equal(await page.evaluate(() => document.documentElement.dataset.octetCharts), '3', 'the page script (with the nonce) ran');
      assert.equal(await page.evaluate(() => document.documentElement.dataset.injected), undefined, 'the injected script did not run');
      assert.notEqual(await page.evaluate(() => getComputedStyle(document.getElementById('styled')!).color), 'rgb(255, 0, 0)', 'the style attribute was refused');
      assert.ok(problems.some((p) => /Content Security Policy/.test(p)), `the browser reports the refusals:\n${problems.join('\n')}`);
    } finally {
      await page.context().close();
    }
  });

  test('100,000-character names: the page loads in seconds, names shortened, the full text in a tooltip', async () => {
    const long = (tag: string): string => `/${tag}/${'n'.repeat(100_000)}/end`;
    const report = realisticReport();
    report.fp32Model.path = `${long('models')}.onnx`;
    // 200 layers: the page took 20 s and more to load before names were shortened for display
    report.layers = Array.from({ length: 200 }, (_, i) => ({ ...report.layers[i % report.layers.length], node: long(`layer${i}`), tensor: long(`tensor${i}`) }));
    report.keptFloat = report.keptFloat.map((kept, i) => ({ ...kept, node: long(`kept${i}`) }));
    report.warnings = [`a warning about ${long('file')}`];
    const longFile = join(tempDir('octet-report-long-'), 'long.html');
    writeFileSync(longFile, reportToHtml(report));
    const started = performance.now();
    const { page, problems } = await open('light', longFile);
    try {
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 10, `loaded and drew its charts in ${seconds.toFixed(1)} s`);
      const cell = await page.evaluate(() => {
        const span = document.querySelector('#layers tbody tr td span[title]');
        return { shown: span?.textContent ?? '', title: span?.getAttribute('title') ?? '' };
      });
      assert.ok(cell.shown.length <= 120 && cell.shown.includes('…') && cell.shown.endsWith('/end'), `shortened: ${cell.shown}`);
      assert.match(cell.title, /^\/layer\d+\/n{100000}\/end$/, 'the full name in the tooltip');
      assert.deepEqual(problems, []);
    } finally {
      await page.context().close();
    }
  });
});

test('the realistic report renders without a tuning section too', () => {
  assert.doesNotMatch(reportToHtml(realisticReport()), /<section id="tuning">/);
});
