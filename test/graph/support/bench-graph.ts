// The graph viewer benchmark (run by scripts/bench-graph.mjs, not by npm test): first paint of ResNet-50, time to
// usable and frame times of a generated 10,000-node model, and webview memory, in headless Chromium.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { loadModelView } from '../../../src/extension/graph/load-model-view';
import { ModelView } from '../../../src/graphmodel/model-view';
import { largeModel } from './fixtures';
import { CHROMIUM, CHROMIUM_ARGS, HarnessModel, OpenedGraph, WebviewHarness } from './webview-harness';

export interface BenchOptions {
  resnetPath: string | undefined;
  runs: number;
  largeNodes: number;
  log: (line: string) => void;
}

interface OpenFigures { firstPaintMs: number; layoutMs: number; algorithm: string; marks: Record<string, number> }

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
}

async function openOnce(harness: WebviewHarness, browser: Browser, model: HarnessModel): Promise<{ g: OpenedGraph; figures: OpenFigures }> {
  const g = await harness.open(browser, model);
  const painted = await Promise.race([g.painted, new Promise<never>((_, no) => setTimeout(() => no(new Error(`no paint in 30 s: ${g.errors.join('; ')}`)), 30_000))]);
  const marks = await g.page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)])));
  return { g, figures: { firstPaintMs: painted.firstPaintMs, layoutMs: painted.layoutMs, algorithm: painted.algorithm, marks } };
}

async function heap(page: Page): Promise<{ usedMb: number; totalMb: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage').catch(() => undefined);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
  await cdp.detach();
  return { usedMb: get('JSHeapUsedSize') / 2 ** 20, totalMb: get('JSHeapTotalSize') / 2 ** 20 };
}

/** Resident memory of this browser's renderer processes (a webview is one renderer), MB. */
async function rendererRssMb(browser: Browser): Promise<number[]> {
  const cdp = await browser.newBrowserCDPSession();
  const info = await cdp.send('SystemInfo.getProcessInfo') as { processInfo: { type: string; id: number }[] };
  await cdp.detach();
  const out: number[] = [];
  for (const p of info.processInfo.filter((x) => x.type === 'renderer')) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'));
      if (rss) out.push(Number(rss[1]) / 1024);
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** Interaction smoothness: wheel zooms and drags, timing each drawn frame and the gaps between frames. */
async function interact(page: Page): Promise<{ drawP50: number; drawP95: number; frameP50: number; frameP95: number; frames: number }> {
  await page.mouse.move(700, 450);
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __draws: number[]; octetGraph: { canvas: { onFrame?: (s: { ms: number }) => void } } };
    w.__frames = [];
    w.__draws = [];
    const canvas = w.octetGraph.canvas;
    const previous = canvas.onFrame;
    canvas.onFrame = (s) => { previous?.(s); w.__draws.push(s.ms); w.__frames.push(performance.now()); };
  });
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, i < 15 ? 120 : -120); await page.waitForTimeout(16); }
  await page.mouse.down();
  for (let i = 0; i < 40; i++) { await page.mouse.move(700 + i * 8, 450 + i * 12); await page.waitForTimeout(8); }
  await page.mouse.up();
  await page.keyboard.press('f');
  await page.waitForTimeout(400);
  for (let i = 0; i < 20; i++) { await page.mouse.wheel(0, -60); await page.waitForTimeout(16); }
  const { frames, draws } = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __draws: number[] };
    return { frames: w.__frames, draws: w.__draws };
  });
  const gaps = frames.slice(1).map((t, i) => t - frames[i]).filter((g) => g < 250);
  return { drawP50: median(draws), drawP95: percentile(draws, 0.95), frameP50: median(gaps), frameP95: percentile(gaps, 0.95), frames: draws.length };
}

export async function runGraphBench(options: BenchOptions): Promise<void> {
  const { log } = options;
  const harness = new WebviewHarness(WebviewHarness.distMediaPath());
  await harness.start();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    // Warm the browser once (first launch costs are Chromium's, not the viewer's).
    const warm = await openOnce(harness, browser, { title: 'warm', load: () => new ModelView(largeModel(50), { fileName: 'warm.onnx', fileBytes: 0, hadExternalData: false }) });
    await warm.g.page.context().close();

    if (options.resnetPath) {
      const path = options.resnetPath;
      const paints: number[] = [];
      const layouts: number[] = [];
      let algorithm = '';
      let lastHeap = { usedMb: 0, totalMb: 0 };
      let rss: number[] = [];
      let breakdown: Record<string, number> = {};
      for (let r = 0; r < options.runs; r++) {
        const { g, figures } = await openOnce(harness, browser, { title: 'resnet50.onnx', load: () => loadModelView(path).view });
        paints.push(figures.firstPaintMs);
        layouts.push(figures.layoutMs);
        algorithm = figures.algorithm;
        breakdown = figures.marks;
        if (r === options.runs - 1) {
          // Inspect a few nodes (weights statistics come from the host) and measure memory after.
          await g.page.fill('.search input', 'Conv');
          for (let i = 0; i < 5; i++) { await g.page.press('.search input', 'Enter'); await g.page.waitForTimeout(150); }
          await g.page.waitForTimeout(300);
          lastHeap = await heap(g.page);
          rss = await rendererRssMb(browser);
        }
        await g.page.context().close();
      }
      const structure = loadModelView(path);
      log(`ResNet-50 (${(structure.view.file.fileBytes / 2 ** 20).toFixed(0)} MB file; viewer reads ${(structure.bytesRead / 2 ** 20).toFixed(2)} MB of it)`);
      log(`  first paint after the editor opens: median ${median(paints)} ms, min ${Math.min(...paints)} ms, max ${Math.max(...paints)} ms over ${paints.length} opens (budget 1000 ms)`);
      log(`  layout: ${algorithm} in the web worker, median ${median(layouts).toFixed(0)} ms`);
      log(`  page timeline of the last open (ms from navigation): ${Object.entries(breakdown).map(([k, v]) => `${k.replace('octet:', '')} ${v}`).join(', ')}`);
      log(`  webview JS heap after inspecting 5 nodes: ${lastHeap.usedMb.toFixed(1)} MB used / ${lastHeap.totalMb.toFixed(1)} MB allocated; renderer RSS ${rss.map((m) => m.toFixed(0)).join(', ')} MB (budget 200 MB)`);
    } else {
      log('ResNet-50: skipped (no model; build it with ../shared/scripts/make-resnet50.sh .cache/resnet50.onnx)');
    }

    const model = largeModel(options.largeNodes);
    const usable: number[] = [];
    const layouts: number[] = [];
    let algorithm = '';
    let nodes = 0;
    let smooth: Awaited<ReturnType<typeof interact>> | undefined;
    let large = { usedMb: 0, totalMb: 0 };
    let drawn = 0;
    let breakdown: Record<string, number> = {};
    for (let r = 0; r < Math.max(1, Math.min(options.runs, 3)); r++) {
      const { g, figures } = await openOnce(harness, browser, {
        title: 'generated.onnx',
        load: () => {
          const view = new ModelView(model, { fileName: 'generated.onnx', fileBytes: 0, hadExternalData: false });
          view.graphs({ fold: true });
          return view;
        },
      });
      usable.push(figures.firstPaintMs);
      layouts.push(figures.layoutMs);
      algorithm = figures.algorithm;
      breakdown = figures.marks;
      if (r === 0) {
        nodes = await g.page.evaluate(() => (window as unknown as { octetGraph: { canvas: { scene: { graph: { nodes: unknown[] } } } } }).octetGraph.canvas.scene.graph.nodes.length);
        drawn = await g.page.evaluate(() => (window as unknown as { octetGraph: { metrics: { drawnNodes?: number } } }).octetGraph.metrics.drawnNodes ?? 0);
        smooth = await interact(g.page);
        large = await heap(g.page);
      }
      await g.page.context().close();
    }
    log(`Generated model: ${nodes.toLocaleString('en-US')} nodes`);
    log(`  time to usable (laid out and drawn) after the editor opens: median ${median(usable)} ms, min ${Math.min(...usable)} ms (budget 3000 ms)`);
    log(`  layout: ${algorithm} in the web worker, median ${median(layouts).toFixed(0)} ms; first frame drew ${drawn} nodes (the rest are off screen)`);
    log(`  page timeline of the last open (ms from navigation): ${Object.entries(breakdown).map(([k, v]) => `${k.replace('octet:', '')} ${v}`).join(', ')}`);
    if (smooth) {
      log(`  pan/zoom: ${smooth.frames} frames; draw p50 ${smooth.drawP50.toFixed(1)} ms, p95 ${smooth.drawP95.toFixed(1)} ms; frame interval p50 ${smooth.frameP50.toFixed(1)} ms, p95 ${smooth.frameP95.toFixed(1)} ms`);
    }
    log(`  webview JS heap: ${large.usedMb.toFixed(1)} MB used / ${large.totalMb.toFixed(1)} MB allocated`);
  } finally {
    await browser.close();
    await harness.stop();
  }
}
