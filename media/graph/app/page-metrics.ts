// What the graph page measures about itself (window.octetGraph.metrics for tests and benchmarks), and the first-paint
// report to the host: the time from the editor opening the file to the first frame on screen.
import type { WebviewToHost } from '../../../src/protocol/graph';
import type { Scene } from '../view/scene';
import type { CanvasView } from './canvas-view';

export interface PageMetrics { firstPaintMs?: number; layoutMs?: number; algorithm?: string; lastFrameMs?: number; frames: number; drawnNodes?: number }

/** Draws `scene` now and, once the browser has composited the frame (next animation frame), reports it. */
export function reportFirstPaint(canvas: CanvasView, scene: Scene, openedAt: number | undefined, metrics: PageMetrics,
  post: (message: WebviewToHost) => void): void {
  const stats = canvas.draw();
  performance.mark('octet:drawn');
  requestAnimationFrame(() => {
    performance.mark('octet:painted');
    metrics.firstPaintMs = Date.now() - (openedAt ?? Date.now());
    metrics.layoutMs = scene.layout.ms;
    metrics.algorithm = scene.layout.algorithm;
    post({ type: 'painted', firstPaintMs: metrics.firstPaintMs, layoutMs: scene.layout.ms, algorithm: scene.layout.algorithm,
      nodes: stats?.nodes ?? scene.graph.nodes.length, at: Date.now() });
  });
}
