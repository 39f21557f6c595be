// The graph webview in a real browser (headless Chromium via playwright-core): the page VS Code would show, fed by
// the real host logic. Searches, clicks, reads the side panel, checks INT8 folding, subgraphs, errors and exports,
// and saves screenshots to test-output/graph/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loadModelView } from '../../src/extension/graph/load-model-view';
import { overlayFromReport } from '../../src/graphmodel/error-overlay';
import { ModelView } from '../../src/graphmodel/model-view';
import { encodeModel, ModelProto } from '../../src/onnx/proto';
import { readModel } from '../../src/onnx/model-io';
import { fakeReport, largeModel, subgraphModel, toQdq } from './support/fixtures';
import { chromiumHarness, OpenedGraph, WebviewHarness } from './support/webview-harness';

const OUT = join(process.cwd(), 'test-output', 'graph');
const RESNET = join(process.cwd(), '.cache', 'resnet50.onnx');
const MOBILENET = join(process.cwd(), '..', 'shared', 'assets', 'models', 'imagenet', 'mobilenet_v1_0.75_224_keras_fp32.onnx');
const unavailable = WebviewHarness.available();

function realModelPath(): string | undefined {
  if (existsSync(RESNET)) return RESNET;
  if (existsSync(MOBILENET)) return MOBILENET;
  return undefined;
}

function inMemory(title: string, model: ModelProto): { title: string; load: () => ModelView } {
  return { title, load: () => new ModelView(model, { fileName: title, fileBytes: encodeModel(model).byteLength, hadExternalData: false }) };
}

interface PageNode { label: string; opType: string; sx: number; sy: number; w: number; h: number }

/** Screen position of a node, read from the page's own scene and viewport. */
async function nodeOnScreen(page: Page, label: string): Promise<PageNode | undefined> {
  return page.evaluate((wanted) => {
    type AppLike = { canvas: { scene: { graph: { nodes: { label: string; opType: string }[] }; layout: { x: Float64Array; y: Float64Array }; boxes: { width: number; height: number }[] } | null; viewport: { scale: number; x: number; y: number }; element: HTMLElement } };
    const app = (window as unknown as { octetGraph: AppLike }).octetGraph;
    const scene = app.canvas.scene;
    if (!scene) return undefined;
    const i = scene.graph.nodes.findIndex((n) => n.label === wanted);
    if (i < 0) return undefined;
    const vp = app.canvas.viewport;
    const r = app.canvas.element.getBoundingClientRect();
    return {
      label: wanted, opType: scene.graph.nodes[i].opType, sx: r.left + vp.x + scene.layout.x[i] * vp.scale, sy: r.top + vp.y + scene.layout.y[i] * vp.scale,
      w: scene.boxes[i].width * vp.scale, h: scene.boxes[i].height * vp.scale,
    };
  }, label);
}

async function selectedLabel(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const app = (window as unknown as { octetGraph: { canvas: { options: { selected: number | null }; scene: { graph: { nodes: { label: string }[] } } | null } } }).octetGraph;
    const s = app.canvas.options.selected;
    return s === null || !app.canvas.scene ? undefined : app.canvas.scene.graph.nodes[s].label;
  });
}

async function waitPainted(g: OpenedGraph, label: string): Promise<number> {
  const painted = await Promise.race([g.painted, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${label}: no first paint in 20 s (${g.errors.join('; ')})`)), 20_000))]);
  return painted.firstPaintMs;
}

async function panelText(page: Page): Promise<string> {
  await page.waitForFunction(() => !document.querySelector('.panel')?.textContent?.includes('Computing weight statistics'), undefined, { timeout: 10_000 });
  return (await page.textContent('.panel')) ?? '';
}

describe('graph webview in Chromium', { skip: unavailable }, () => {
  const chromium = chromiumHarness(OUT);

  test('real FP32 model: first paint, search, click, side panel with weight statistics', async (t) => {
    const path = realModelPath();
    if (!path) { t.skip('neither .cache/resnet50.onnx nor ../shared MobileNet is present'); return; }
    const isResnet = path === RESNET;
    const g = await chromium.open({ title: 'model', load: () => loadModelView(path).view });
    const firstPaint = await waitPainted(g, path);
    t.diagnostic(`${isResnet ? 'ResNet-50' : 'MobileNet'} first paint ${firstPaint} ms after opening`);
    assert.ok(firstPaint > 0, 'painted');
    await g.page.screenshot({ path: join(OUT, `${isResnet ? 'resnet50' : 'mobilenet'}-open.png`) });

    // Search a node by name, go to it with Enter: it is selected and the panel describes it.
    const target = isResnet ? 'res4a_branch2b' : 'conv_pw_5';
    await g.page.fill('.search input', target);
    await g.page.press('.search input', 'Enter');
    await g.page.waitForFunction(() => document.querySelector('.search .count')?.textContent?.includes('of'));
    assert.match((await g.page.textContent('.search .count')) ?? '', /^1 of \d+/);
    await g.page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, target, { timeout: 5000 });
    assert.equal(await selectedLabel(g.page), target);

    // Click another node on the canvas: the next Conv below / the BatchNormalization after it.
    await g.page.waitForTimeout(400); // the centring animation
    const bn = await nodeOnScreen(g.page, isResnet ? 'bn4a_branch2b' : 'conv_pw_5_bn');
    assert.ok(bn, 'batch norm node exists');
    await g.page.mouse.click(bn.sx, bn.sy);
    await g.page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, bn.label, { timeout: 5000 });
    // And back to the Conv by clicking it.
    const conv = await nodeOnScreen(g.page, target);
    assert.ok(conv);
    await g.page.mouse.click(conv.sx, conv.sy);
    await g.page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, target, { timeout: 5000 });
    const text = await panelText(g.page);
    assert.match(text, /Conv/);
    assert.match(text, /kernel_shape/);
    assert.match(text, /Weights and constants/);
    assert.match(text, /min \/ max/);
    assert.match(text, /mean \/ std/);
    assert.ok(await g.page.$('.panel svg.histogram rect'), 'weight histogram drawn');
    await g.page.screenshot({ path: join(OUT, `${isResnet ? 'resnet50' : 'mobilenet'}-selected.png`) });

    // Keyboard: Down walks to the successor; F fits the whole graph; the model panel lists the properties.
    await g.page.keyboard.press('ArrowDown');
    assert.notEqual(await selectedLabel(g.page), target);
    await g.page.keyboard.press('f');
    await g.page.waitForTimeout(300);
    await g.page.click('button[title="Model properties (M)"]');
    const props = (await g.page.textContent('.panel')) ?? '';
    assert.match(props, /IR version/);
    assert.match(props, /opsets/);
    assert.match(props, /tfjs_layers_to_onnx|producer/);
    await g.page.screenshot({ path: join(OUT, `${isResnet ? 'resnet50' : 'mobilenet'}-fit-properties.png`) });

    // The whole model never reaches the page: the init message carries structure only.
    const heap = await g.page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
    t.diagnostic(`page JS heap ${(heap / 2 ** 20).toFixed(1)} MB`);
    assert.ok(heap < 200 * 2 ** 20, `JS heap ${heap} bytes`);
    assert.deepEqual(g.errors.filter((e) => !e.includes('404')), []);
    await g.page.context().close();
  });

  test('INT8 (QDQ) model: folded Q/DQ with int8 badge, scale/zero point in the panel, SQNR colours, raw toggle, SVG/PNG export', async (t) => {
    const path = realModelPath();
    const fp32 = path ? readModel(path).model : largeModel(120);
    const int8 = toQdq(fp32);
    const mv = new ModelView(int8, { fileName: 'model.int8.onnx', fileBytes: 0, hadExternalData: false });
    const convs = mv.graphs({ fold: true })[0].nodes.filter((n) => n.opType === 'Conv');
    const measured = fakeReport(convs.map((n) => ({ name: n.name, opType: 'Conv', tensor: n.outputs[0].name })));
    // The first conv adds 12 dB of error itself; the others add none (their error is inherited).
    const report = { ...measured, layers: measured.layers.map((l, i) => ({ ...l, ownSqnrDb: i === 0 ? 12 : 200 })) };
    const g = await chromium.open({ title: 'model.int8.onnx', load: () => mv, overlay: overlayFromReport(report, 'model.int8.report.json') });
    await waitPainted(g, 'int8');
    assert.ok(await g.page.isVisible('.legend'), 'SQNR legend shown');
    assert.match((await g.page.textContent('.legend')) ?? '', /SQNR/);
    const conv = convs[Math.min(3, convs.length - 1)];
    await g.page.fill('.search input', conv.label);
    await g.page.press('.search input', 'Enter');
    await g.page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, conv.label, { timeout: 5000 });
    const text = await panelText(g.page);
    assert.match(text, /int8/);
    assert.match(text, /Quantization \(folded Q\/DQ\)/);
    assert.match(text, /scale 0\.05/);
    assert.match(text, /zero point 128/);
    assert.match(text, /stored as int8/);
    assert.match(text, /Per-layer error \(report\)/);
    assert.match(text, /SQNR/);
    await g.page.waitForTimeout(400);
    await g.page.screenshot({ path: join(OUT, 'int8-folded-selected.png') });

    const foldedCount = await g.page.evaluate(() => (window as unknown as { octetGraph: { canvas: { scene: { graph: { nodes: unknown[] } } } } }).octetGraph.canvas.scene.graph.nodes.length);
    await g.page.click('button:has-text("Q/DQ folded")');
    await g.page.waitForFunction((n) => {
      const scene = (window as unknown as { octetGraph: { canvas: { scene: { graph: { nodes: unknown[] } } | null } } }).octetGraph.canvas.scene;
      return scene !== null && scene.graph.nodes.length > n;
    }, foldedCount, { timeout: 10_000 });
    assert.equal(await g.page.textContent('button[aria-pressed="false"]:has-text("Q/DQ")'), 'Q/DQ raw');
    await g.page.waitForTimeout(400);
    await g.page.screenshot({ path: join(OUT, 'int8-raw.png') });
    await g.page.click('button:has-text("Q/DQ raw")');

    await g.page.click('button[title="Export the graph as SVG"]');
    await g.page.click('button[title="Export the graph as PNG"]');
    await g.page.waitForFunction(() => true);
    for (let i = 0; i < 50 && g.exports.length < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
    const svg = g.exports.find((e) => e.format === 'svg');
    const png = g.exports.find((e) => e.format === 'png');
    assert.ok(svg && svg.data.startsWith('<svg') && svg.data.includes('Conv'), 'SVG export');
    assert.ok(png && png.data.startsWith('data:image/png;base64,'), 'PNG export');
    writeFileSync(join(OUT, 'int8-export.svg'), svg.data);
    writeFileSync(join(OUT, 'int8-export.png'), Buffer.from(png.data.slice('data:image/png;base64,'.length), 'base64'));
    t.diagnostic(`exports: SVG ${(svg.data.length / 1024).toFixed(0)} KB, PNG ${(png.data.length * 0.75 / 1024).toFixed(0)} KB`);

    // Own-error colouring: the legend and the labels switch to the error each layer adds itself.
    await g.page.click('button:has-text("Own error")');
    await g.page.waitForFunction(() => /Own SQNR/.test(document.querySelector('.legend')?.textContent ?? ''), undefined, { timeout: 5000 });
    assert.equal(await g.page.getAttribute('button:has-text("Own error")', 'aria-pressed'), 'true');
    const exported = g.exports.length;
    await g.page.click('button[title="Export the graph as SVG"]');
    for (let i = 0; i < 50 && g.exports.length <= exported; i++) await new Promise((ok) => setTimeout(ok, 100));
    const ownSvg = g.exports[g.exports.length - 1].data;
    assert.match(ownSvg, />12\.0 dB</, 'the first conv shows its own 12 dB');
    assert.match(ownSvg, />adds none</, 'the others add none');
    assert.doesNotMatch(ownSvg, />45\.0 dB</, 'no accumulated figure left');
    await g.page.click('button:has-text("Own error")');

    // revealNode (the report panel's command) focuses a node by name.
    const last = convs[convs.length - 1];
    g.session.reveal(last.name || last.outputs[0].name);
    await g.page.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, last.label, { timeout: 5000 });
    assert.ok(g.sent.some((m) => m.type === 'revealed' && m.found));
    await g.page.context().close();
  });

  test('light theme, subgraphs with breadcrumb, keyboard Enter/Backspace', async () => {
    const g = await chromium.open(inMemory('control-flow.onnx', subgraphModel()), { theme: 'light', viewport: { width: 1000, height: 700 } });
    await waitPainted(g, 'subgraphs');
    const ifNode = await nodeOnScreen(g.page, 'branch');
    assert.ok(ifNode);
    await g.page.mouse.click(ifNode.sx, ifNode.sy);
    await g.page.waitForFunction(() => document.querySelector('.panel h2')?.textContent === 'branch');
    assert.match((await g.page.textContent('.panel')) ?? '', /Open else_branch/);
    await g.page.screenshot({ path: join(OUT, 'subgraph-if-light.png') });
    await g.page.click('button:has-text("Open else_branch")');
    await g.page.waitForFunction(() => document.querySelectorAll('.breadcrumb button').length === 2);
    const loop = await nodeOnScreen(g.page, 'else_loop');
    assert.ok(loop);
    await g.page.mouse.click(loop.sx, loop.sy);
    await g.page.keyboard.press('Enter');
    await g.page.waitForFunction(() => document.querySelectorAll('.breadcrumb button').length === 3);
    assert.match((await g.page.textContent('.breadcrumb')) ?? '', /main.*else_branch.*body/);
    await g.page.screenshot({ path: join(OUT, 'subgraph-loop-body-light.png') });
    await g.page.keyboard.press('Backspace');
    await g.page.waitForFunction(() => document.querySelectorAll('.breadcrumb button').length === 2);
    await g.page.click('.breadcrumb button:first-child');
    await g.page.waitForFunction(() => document.querySelectorAll('.breadcrumb button').length === 1);
    // Search finds nodes inside bodies and jumps there.
    await g.page.fill('.search input', 'fn_mul');
    await g.page.press('.search input', 'Enter');
    await g.page.waitForFunction(() => document.querySelector('.breadcrumb')?.textContent?.includes('Swish'));
    assert.equal(await selectedLabel(g.page), 'fn_mul');
    await g.page.context().close();
  });

  test('hide/show: a re-created webview restores scope, selection and zoom from setState', async () => {
    const first = await chromium.open(inMemory('control-flow.onnx', subgraphModel()));
    await waitPainted(first, 'state');
    const ifNode = await nodeOnScreen(first.page, 'branch');
    assert.ok(ifNode);
    await first.page.mouse.click(ifNode.sx, ifNode.sy);
    await first.page.click('button:has-text("Open else_branch")');
    await first.page.waitForFunction(() => document.querySelectorAll('.breadcrumb button').length === 2);
    const loop = await nodeOnScreen(first.page, 'else_loop');
    assert.ok(loop);
    await first.page.mouse.click(loop.sx, loop.sy);
    await first.page.keyboard.press('+');
    await first.page.waitForTimeout(400);
    const saved = await first.page.evaluate(() => (window as unknown as { __octetState: () => unknown }).__octetState());
    const scaleBefore = await first.page.evaluate(() => (window as unknown as { octetGraph: { canvas: { viewport: { scale: number } } } }).octetGraph.canvas.viewport.scale);
    await first.page.context().close();

    const second = await chromium.open(inMemory('control-flow.onnx', subgraphModel()), { state: saved });
    await waitPainted(second, 'restored');
    await second.page.waitForFunction(() => document.querySelector('.panel h2')?.textContent === 'else_loop');
    assert.match((await second.page.textContent('.breadcrumb')) ?? '', /else_branch/);
    assert.equal(await selectedLabel(second.page), 'else_loop');
    const scaleAfter = await second.page.evaluate(() => (window as unknown as { octetGraph: { canvas: { viewport: { scale: number } } } }).octetGraph.canvas.viewport.scale);
    assert.ok(Math.abs(scaleAfter - scaleBefore) < 1e-6, `zoom ${scaleBefore} restored as ${scaleAfter}`);
    await second.page.context().close();
  });

  test('corrupt and truncated files show a readable error instead of a blank page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'octet-corrupt-'));
    try {
      const truncated = join(dir, 'truncated.onnx');
      const bytes = encodeModel(toQdq(largeModel(60)));
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const g = await chromium.open({ title: 'truncated.onnx', load: () => loadModelView(truncated).view });
      await g.page.waitForSelector('.octet-error', { timeout: 10_000 });
      const text = (await g.page.textContent('.octet-error')) ?? '';
      assert.match(text, /cannot be shown/);
      assert.match(text, /truncated or corrupt/);
      assert.match(text, /truncated\.onnx/);
      await g.page.screenshot({ path: join(OUT, 'corrupt-error.png') });
      await g.page.context().close();
      const notOnnx = join(dir, 'notes.onnx');
      writeFileSync(notOnnx, 'these are my notes, not a model\n');
      const h = await chromium.open({ title: 'notes.onnx', load: () => loadModelView(notOnnx).view });
      await h.page.waitForSelector('.octet-error', { timeout: 10_000 });
      assert.match((await h.page.textContent('.octet-error')) ?? '', /notes\.onnx/);
      await h.page.context().close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('generated 10,000-node model: laid out, culled drawing, usable quickly', async (t) => {
    const model = largeModel(10_000);
    const g = await chromium.open(inMemory('generated-10k.onnx', model));
    const firstPaint = await waitPainted(g, '10k');
    const info = await g.page.evaluate(() => {
      const app = (window as unknown as { octetGraph: { metrics: { algorithm?: string; drawnNodes?: number }; canvas: { scene: { graph: { nodes: unknown[] } } } } }).octetGraph;
      return { algorithm: app.metrics.algorithm, drawn: app.metrics.drawnNodes ?? 0, total: app.canvas.scene.graph.nodes.length };
    });
    t.diagnostic(`10k-node model: usable ${firstPaint} ms after opening, ${info.algorithm} layout, ${info.drawn} of ${info.total} nodes drawn`);
    assert.equal(info.algorithm, 'layered');
    assert.ok(info.drawn < info.total / 10, 'only what is on screen is drawn');
    assert.ok(firstPaint < 15_000, `first paint ${firstPaint} ms (the budget of 3 s is checked by scripts/bench-graph.mjs on a quiet machine)`);
    await g.page.focus('.canvas-host');
    await g.page.keyboard.press('f');
    await g.page.waitForTimeout(400);
    await g.page.screenshot({ path: join(OUT, 'generated-10k-fit.png') });
    await g.page.context().close();
  });
});
