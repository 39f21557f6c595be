// The graph viewer's Time overlay in headless Chromium (the real webview page and host logic, see the harness): the
// report's profile colours the nodes by INT8 time and by gain (read back from the canvas pixels), with a legend, the
// side panel lists a node's times and kernels, the choice survives hide/show; without a profile there is no Time
// option. Screenshots go to test-output/graph/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Report } from '../../src/common/report';
import { overlayFromReport } from '../../src/graphmodel/error-overlay';
import { ModelView } from '../../src/graphmodel/model-view';
import { gainColor, int8TimeColor } from '../../src/graphmodel/time-profile';
import { fakeProfile, fakeReport, largeModel, toQdq } from './support/fixtures';
import { chromiumHarness, OpenedGraph, WebviewHarness } from './support/webview-harness';

const OUT = join(process.cwd(), 'test-output', 'graph');
const unavailable = WebviewHarness.available();

/** 'hsl(h, s%, l%)' → [r, g, b] (0..255), the way the canvas converts it. */
function hslToRgb(hsl: string): [number, number, number] {
  const [h, s, l] = (/hsl\((\d+), (\d+)%, (\d+)%\)/.exec(hsl) ?? []).slice(1).map(Number);
  const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
  const f = (n: number) => { const k = (n + h / 30) % 12; return l / 100 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)); };
  return [f(0), f(8), f(4)].map((v) => Math.round(v * 255)) as [number, number, number];
}

/** The colour filling most of the top band of a node's header on the canvas (text and badge pixels are outvoted). */
async function headerColor(page: Page, label: string): Promise<[number, number, number]> {
  const rgb = await page.evaluate((wanted) => {
    type AppLike = { canvas: { scene: { graph: { nodes: { label: string }[] }; layout: { x: Float64Array; y: Float64Array }; boxes: { width: number; height: number }[] }; viewport: { scale: number; x: number; y: number }; canvas: HTMLCanvasElement } };
    const app = (window as unknown as { octetGraph: AppLike }).octetGraph;
    const scene = app.canvas.scene;
    const i = scene.graph.nodes.findIndex((n) => n.label === wanted);
    const vp = app.canvas.viewport;
    const ratio = app.canvas.canvas.width / app.canvas.canvas.clientWidth;
    const box = scene.boxes[i];
    const y = Math.round((vp.y + (scene.layout.y[i] - box.height / 2 + 4) * vp.scale) * ratio);
    const x0 = Math.round((vp.x + (scene.layout.x[i] - box.width / 2 + 8) * vp.scale) * ratio);
    const width = Math.round((box.width - 16) * vp.scale * ratio);
    const data = app.canvas.canvas.getContext('2d')!.getImageData(x0, y, width, 1).data;
    const counts = new Map<string, number>();
    for (let p = 0; p < data.length; p += 4) { const key = `${data[p]},${data[p + 1]},${data[p + 2]}`; counts.set(key, (counts.get(key) ?? 0) + 1); }
    return [...counts].sort((a, b) => b[1] - a[1])[0][0];
  }, label);
  return rgb.split(',').map(Number) as [number, number, number];
}

function assertColor(actual: [number, number, number], hsl: string, what: string): void {
  const want = hslToRgb(hsl);
  assert.ok(actual.every((v, i) => Math.abs(v - want[i]) <= 2), `${what}: canvas ${actual.join(',')} vs ${hsl} = ${want.join(',')}`);
}

/** Page errors, less the favicon's 404 (the harness serves none). */
const pageErrors = (g: OpenedGraph) => g.errors.filter((e) => !e.includes('404'));

async function waitPainted(g: OpenedGraph): Promise<void> {
  await Promise.race([g.painted, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no first paint in 20 s (${g.errors.join('; ')})`)), 20_000))]);
}

/** Goes to a node with the search box: it is selected, centred, and the side panel describes it. */
async function goTo(page: Page, label: string): Promise<string> {
  await page.fill('.search input', label);
  await page.press('.search input', 'Enter');
  await page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, label, { timeout: 5000 });
  await page.waitForTimeout(450); // the centring animation
  return (await page.textContent('.panel')) ?? '';
}

describe('graph viewer Time overlay in Chromium', { skip: unavailable }, () => {
  const chromium = chromiumHarness(OUT);
  const model = new ModelView(toQdq(largeModel(120)), { fileName: 'generated.int8.onnx', fileBytes: 0, hadExternalData: false });
  const ops = model.graphs({ fold: true })[0].nodes.filter((n) => n.kind === 'op');
  const convs = ops.filter((n) => n.opType === 'Conv');
  const slow = convs[2];
  const hot = convs[convs.length - 1];
  const timed = fakeProfile(ops.map((n) => ({ name: n.name, opType: n.opType })), slow.name);
  const report = { ...fakeReport(convs.map((n) => ({ name: n.name, opType: 'Conv', tensor: n.outputs[0].name }))), ...timed } as Pick<Report, 'layers' | 'accuracy' | 'profile' | 'speed'>;
  const open = (withProfile: boolean, state?: unknown) => chromium.open({
    title: 'generated.int8.onnx', load: () => model,
    overlay: overlayFromReport(withProfile ? report : { layers: report.layers, accuracy: report.accuracy }, 'generated.int8.report.json'),
  }, { state });

  test('Time colours nodes by INT8 time and by gain, with a legend and the node’s times in the side panel', async () => {
    const g = await open(true);
    try {
      await waitPainted(g);
      const time = 'button:has-text("Time")';
      assert.equal(await g.page.isVisible(time), true, 'the Time option is there');
      assert.equal(await g.page.getAttribute(time, 'aria-pressed'), 'false', 'SQNR stays the default view');
      await g.page.click(time);
      await g.page.waitForFunction(() => /INT8 time per node/.test(document.querySelector('.legend')?.textContent ?? ''), undefined, { timeout: 5000 });
      assert.equal(await g.page.getAttribute(time, 'aria-pressed'), 'true');
      assert.equal(await g.page.getAttribute('button:has-text("SQNR colours")', 'aria-pressed'), 'false');
      assert.equal(await g.page.isVisible('button:has-text("Own error")'), false, 'the error view’s toggle goes with it');
      const legend = (await g.page.textContent('.legend')) ?? '';
      assert.match(legend, /≥ 10%/);
      assert.match(legend, new RegExp(`${ops.length} nodes coloured · profile: ${ops.length} nodes`));

      const hotTime = timed.profile!.nodes.find((n) => n.node === hot.name);
      assert.ok(hotTime);
      const panel = await goTo(g.page, hot.label);
      assert.match(panel, /Time \(profile, ms per run\)/);
      assert.ok(panel.includes(`FP32${hotTime.fp32Ms.toFixed(2)} ms · FusedConv`), panel);
      assert.ok(panel.includes(`INT8${(hotTime.int8Ms).toFixed(3)} ms · QLinearConv`), panel);
      assert.match(panel, /gain3\.00× \(FP32 ÷ INT8 with Q\/DQ\)/);
      const share = (hotTime.int8Ms + hotTime.overheadMs) / timed.profile!.int8TotalMs;
      assertColor(await headerColor(g.page, hot.label), int8TimeColor(share), 'the slowest conv, by INT8 time');

      const slowPanel = await goTo(g.page, slow.label);
      assert.match(slowPanel, /Q\/DQ overhead0\.160 ms/);
      assert.match(slowPanel, /gain0\.80× .* INT8 slower here/);
      assert.match(slowPanel, /speed choicekept in float tried: int8 \+ Q\/DQ 0\.65 ms vs float 0\.52 ms in the profile; .* kept/);
      await g.page.screenshot({ path: join(OUT, 'time-int8-ms.png') });

      await g.page.click('button:has-text("By gain")');
      await g.page.waitForFunction(() => /Gain FP32 ÷ INT8/.test(document.querySelector('.legend')?.textContent ?? ''), undefined, { timeout: 5000 });
      await g.page.waitForTimeout(100);
      assertColor(await headerColor(g.page, slow.label), gainColor(0.52 / 0.65), 'the conv slower in INT8, by gain (red)');
      await g.page.screenshot({ path: join(OUT, 'time-gain.png') });
      const exported = g.exports.length;
      await g.page.click('button[title="Export the graph as SVG"]');
      for (let i = 0; i < 50 && g.exports.length <= exported; i++) await new Promise((ok) => setTimeout(ok, 100));
      const svg = g.exports[g.exports.length - 1].data;
      assert.match(svg, />0\.80×</, 'the slow conv’s gain label');
      assert.match(svg, />3\.00×</);
      assert.doesNotMatch(svg, /> ?\d+\.\d dB</, 'no SQNR label left');

      // Hidden and shown again: the page comes back in the Time view, by gain.
      const saved = await g.page.evaluate(() => (window as unknown as { __octetState: () => unknown }).__octetState()) as Record<string, unknown>;
      assert.deepEqual([saved.overlayOn, saved.overlayKind, saved.timeMetric], [true, 'time', 'gain']);
      await g.page.context().close();
      const again = await open(true, saved);
      await waitPainted(again);
      await again.page.waitForFunction(() => /Gain FP32 ÷ INT8/.test(document.querySelector('.legend')?.textContent ?? ''), undefined, { timeout: 5000 });
      assert.deepEqual(pageErrors(again), []);
      await again.page.context().close();
      assert.deepEqual(pageErrors(g), []);
    } finally {
      await g.page.context().close().catch(() => undefined);
    }
  });

  test('without a profile there is no Time option, even when the saved state asked for it', async () => {
    const g = await open(false, { scope: 'main', viewports: {}, direction: 'TB', fold: true, overlayOn: true, overlayKind: 'time',
      overlayMetric: 'accumulated', timeMetric: 'int8Ms', panel: 'none', query: '' });
    try {
      await waitPainted(g);
      assert.equal(await g.page.isHidden('button:has-text("Time")'), true, 'no Time button');
      assert.equal(await g.page.getAttribute('button:has-text("SQNR colours")', 'aria-pressed'), 'true', 'falls back to the SQNR view');
      assert.match((await g.page.textContent('.legend')) ?? '', /Per-layer SQNR/);
      await g.page.click('button[title="Model properties (M)"]');
      assert.match((await g.page.textContent('.panel')) ?? '', /time profilenone \(the report was not profiled\)/);
      const panel = await goTo(g.page, convs[0].label);
      assert.doesNotMatch(panel, /Time \(profile/);
      assert.deepEqual(pageErrors(g), []);
    } finally {
      await g.page.context().close();
    }
  });
});
