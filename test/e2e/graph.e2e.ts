// Graph viewer in a real VS Code (code-server with the packaged .vsix, run by scripts/e2e/run-e2e.sh after the UI
// test): double-clicking a model opens the `octet.graph` custom editor, search and canvas clicks fill the side panel,
// and "Open Graph" on the INT8 model (quantized by the UI test) shows folded Q/DQ with the per-layer SQNR overlay.
// Screenshots go to $SHOTS (g*.png); results to $GRAPH_RESULTS.
import { Frame, Locator, Page } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, log, openContextEntry, requireEnv, StepRunner } from './browser';

const base = requireEnv('CS_URL');
const folder = requireEnv('CS_FOLDER');
const shots = requireEnv('SHOTS');
const resultsPath = requireEnv('GRAPH_RESULTS');

const runner = new StepRunner(shots, { failPrefix: 'g-fail-', stopOnFailure: false });
const step = runner.step.bind(runner);
const shot = runner.shot.bind(runner);

/** The graph webview's document (VS Code nests it: iframe.webview → #active-frame) showing `file`. */
async function graphFrame(p: Page, file: string, timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of p.frames()) {
      try {
        const title = await frame.evaluate(() => (document.querySelector('.canvas-host') ? document.title : ''));
        if (title === file) return frame;
      } catch {
        // Frames come and go while the workbench lays out.
      }
    }
    if (Date.now() > end) throw new Error(`no graph webview for ${file} after ${timeoutMs / 1000} s`);
    await p.waitForTimeout(250);
  }
}

async function waitPainted(frame: Frame): Promise<number> {
  await frame.waitForFunction(() => (window as unknown as { octetGraph?: { metrics: { firstPaintMs?: number } } }).octetGraph?.metrics.firstPaintMs !== undefined, undefined, { timeout: 60_000 });
  return frame.evaluate(() => (window as unknown as { octetGraph: { metrics: { firstPaintMs: number } } }).octetGraph.metrics.firstPaintMs);
}

/** Canvas position of a node (by label), from the page's own scene and viewport. */
async function nodePosition(frame: Frame, label: string): Promise<{ x: number; y: number } | undefined> {
  return frame.evaluate((wanted) => {
    type App = { canvas: { scene: { graph: { nodes: { label: string }[] }; layout: { x: Float64Array; y: Float64Array } } | null; viewport: { scale: number; x: number; y: number } } };
    const app = (window as unknown as { octetGraph: App }).octetGraph;
    const scene = app.canvas.scene;
    const i = scene ? scene.graph.nodes.findIndex((n) => n.label === wanted) : -1;
    if (!scene || i < 0) return undefined;
    const vp = app.canvas.viewport;
    return { x: vp.x + scene.layout.x[i] * vp.scale, y: vp.y + scene.layout.y[i] * vp.scale };
  }, label);
}

/** Right-clicks `row` until its context menu lists `entry` (the extension's contributions are loaded), then closes it. */
async function waitForContributions(p: Page, row: Locator, entry: string): Promise<void> {
  const item = p.locator('.context-view .action-item', { hasText: entry });
  for (let attempt = 0; ; attempt++) {
    await row.click({ button: 'right' });
    await p.locator('.context-view .action-item').first().waitFor({ timeout: 10_000 });
    const found = await item.count() > 0;
    await p.keyboard.press('Escape');
    if (found) return;
    if (attempt > 30) throw new Error(`the Explorer context menu never showed '${entry}'`);
    await p.waitForTimeout(1000);
  }
}

async function main(): Promise<void> {
  mkdirSync(shots, { recursive: true });
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 } });
  const p = await context.newPage();
  runner.page = p;
  p.on('pageerror', (e) => log('[page error]', e.message.slice(0, 200)));
  try {
    await step('workbench loads with the workspace', async () => {
      await p.goto(`${base}/?folder=${encodeURIComponent(folder)}`);
      await p.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'resnet20.onnx' }).first().waitFor({ timeout: 60_000 });
    });

    let frame: Frame | undefined;
    await step('double-clicking resnet20.onnx opens the Octet graph viewer (default editor for *.onnx)', async () => {
      const row = p.locator('.explorer-folders-view .monaco-list-row', { hasText: /^resnet20\.onnx$/ }).first();
      // Editor contributions arrive after the extension scan: until then VS Code would open the text editor.
      await waitForContributions(p, row, 'Open Graph');
      await row.dblclick();
      frame = await graphFrame(p, 'resnet20.onnx');
      const firstPaint = await waitPainted(frame);
      const status = (await frame.locator('.status').textContent()) ?? '';
      if (!/nodes/.test(status)) throw new Error(`status line: ${status}`);
      await p.waitForTimeout(300);
      await shot('g01-graph-resnet20.png');
      return `first paint ${firstPaint} ms; ${status}`;
    });

    await step('search a node, click another on the canvas: the side panel shows its weights', async () => {
      if (!frame) throw new Error('no graph webview');
      await frame.locator('.search input').fill('Conv');
      await frame.locator('.search input').press('Enter');
      await frame.locator('.panel h2').waitFor({ timeout: 10_000 });
      const count = (await frame.locator('.search .count').textContent()) ?? '';
      await frame.locator('.search input').press('Enter');
      await p.waitForTimeout(500);
      const selected = await frame.evaluate(() => {
        const app = (window as unknown as { octetGraph: { canvas: { options: { selected: number | null }; scene: { graph: { nodes: { label: string }[]; edges: { from: number; to: number }[] } } } } }).octetGraph;
        const s = app.canvas.options.selected ?? 0;
        const next = app.canvas.scene.graph.edges.find((e) => e.from === s)?.to ?? s;
        return app.canvas.scene.graph.nodes[next].label;
      });
      const at = await nodePosition(frame, selected);
      if (!at) throw new Error(`node ${selected} not found`);
      await frame.locator('.canvas-host canvas').click({ position: at });
      await frame.waitForFunction((want) => document.querySelector('.panel h2')?.textContent === want, selected, { timeout: 10_000 });
      const conv = await nodePosition(frame, (await frame.evaluate(() => {
        const app = (window as unknown as { octetGraph: { canvas: { scene: { graph: { nodes: { label: string; opType: string }[] } } } } }).octetGraph;
        return app.canvas.scene.graph.nodes.find((n) => n.opType === 'Conv')?.label ?? '';
      })));
      if (conv) {
        await frame.locator('.canvas-host canvas').click({ position: conv });
        await frame.locator('.panel', { hasText: 'min / max' }).waitFor({ timeout: 15_000 });
      }
      await p.waitForTimeout(300);
      await shot('g02-graph-search-click.png');
      return `search 'Conv': ${count}; clicked ${selected}`;
    });

    const int8 = join(folder, 'resnet20.int8.onnx');
    await step('"Open Graph" on resnet20.int8.onnx: folded Q/DQ, int8 badge, SQNR overlay from the report', async () => {
      if (!existsSync(int8)) return 'skipped: the UI test did not leave resnet20.int8.onnx';
      const row = p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'resnet20.int8.onnx' }).first();
      await openContextEntry(p, row, 'Open Graph');
      const f = await graphFrame(p, 'resnet20.int8.onnx');
      const firstPaint = await waitPainted(f);
      await f.locator('.search input').fill('Conv');
      await f.locator('.search input').press('Enter');
      await f.locator('.panel', { hasText: 'Quantization (folded Q/DQ)' }).waitFor({ timeout: 15_000 });
      const panel = (await f.locator('.panel').textContent()) ?? '';
      if (!/int8/.test(panel)) throw new Error('no int8 badge in the side panel');
      const legend = await f.locator('.legend').isVisible();
      await p.waitForTimeout(400);
      await shot('g03-graph-int8-overlay.png');
      return `first paint ${firstPaint} ms; SQNR legend ${legend ? 'shown' : 'absent (no report beside the model)'}`;
    });
  } finally {
    await browser.close();
    runner.writeResults(resultsPath, 'graph');
  }
}

main().then(() => process.exit(runner.allOk ? 0 : 1), (err: unknown) => {
  console.error('graph viewer e2e failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
