// Runs layouts in a web worker (started from a blob: URL, as webviews cannot load workers cross-origin); falls back
// to the layered layout on the page's own thread when no worker can start (dagre stays out of the page bundle).
import { layoutLayered } from '../../../src/graphmodel/layout/layered';
import type { LayoutAlgorithm, LayoutInput, LayoutResult } from '../../../src/graphmodel/layout/types';

type Pending = { resolve: (r: LayoutResult) => void; reject: (e: Error) => void };

export class LayoutClient {
  private worker: Worker | undefined;
  private starting: Promise<Worker | undefined>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the worker is not used, if it is not. */
  fallbackReason: string | undefined;

  constructor(workerUrl: string) {
    this.starting = this.start(workerUrl);
  }

  private async start(url: string): Promise<Worker | undefined> {
    if (!url || typeof Worker === 'undefined') { this.fallbackReason = 'no worker support'; return undefined; }
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const blob = new Blob([await response.text()], { type: 'text/javascript' });
      const worker = new Worker(URL.createObjectURL(blob));
      worker.onmessage = (event: MessageEvent<{ id: number; result?: LayoutResult; error?: string }>) => {
        const p = this.pending.get(event.data.id);
        if (!p) return;
        this.pending.delete(event.data.id);
        if (event.data.result) p.resolve(event.data.result); else p.reject(new Error(event.data.error ?? 'layout failed'));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        const error = new Error(event.message || 'layout worker crashed');
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      };
      this.worker = worker;
      // Warm the worker (JIT-compile dagre and the chain code) while the host is still reading the model.
      void this.layout(warmUpGraph()).catch(() => undefined);
      return worker;
    } catch (err) {
      this.fallbackReason = `layout worker unavailable (${err instanceof Error ? err.message : String(err)})`;
      return undefined;
    }
  }

  async layout(input: LayoutInput, preferred?: LayoutAlgorithm): Promise<LayoutResult> {
    const worker = this.worker ?? await this.starting;
    if (!worker) return layoutLayered(input);
    const id = this.nextId++;
    return new Promise<LayoutResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, input, preferred });
    }).catch((err: unknown) => {
      this.fallbackReason = err instanceof Error ? err.message : String(err);
      return layoutLayered(input);
    });
  }
}

/** A small residual network (blocks of a 3-node branch plus a skip edge): exercises every layout phase. */
function warmUpGraph(): LayoutInput {
  const blocks = 8;
  const n = 1 + blocks * 4;
  const sizes = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) { sizes[2 * i] = 90 + (i % 3) * 20; sizes[2 * i + 1] = 40; }
  const edges: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const input = b * 4;
    edges.push(input, input + 1, input + 1, input + 2, input + 2, input + 3, input + 3, input + 4, input, input + 4);
  }
  return { sizes, edges: Int32Array.from(edges), direction: 'TB' };
}
