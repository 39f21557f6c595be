// A laid-out graph ready to draw: node boxes and bounds, edge bounds, a spatial grid for culling and picking,
// and adjacency for keyboard navigation.
import type { LayoutResult } from '../../../src/graphmodel/layout/types';
import type { ViewGraph } from '../../../src/graphmodel/types';
import { NodeBox } from './node-boxes';

const CELL = 320;

export interface Bounds { x0: number; y0: number; x1: number; y1: number }

export class SpatialGrid {
  private readonly cells = new Map<number, number[]>();
  private readonly columns: number;

  constructor(private readonly width: number, height: number) {
    this.columns = Math.max(1, Math.ceil(width / CELL) + 1);
    void height;
  }

  private key(cx: number, cy: number): number {
    return cy * this.columns + cx;
  }

  insert(id: number, b: Bounds): void {
    const cx0 = Math.max(0, Math.floor(b.x0 / CELL));
    const cx1 = Math.min(this.columns - 1, Math.floor(b.x1 / CELL));
    const cy0 = Math.max(0, Math.floor(b.y0 / CELL));
    const cy1 = Math.floor(b.y1 / CELL);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const k = this.key(cx, cy);
        const list = this.cells.get(k);
        if (list) list.push(id); else this.cells.set(k, [id]);
      }
    }
  }

  /** Ids whose cells touch `b` (may repeat; callers test bounds exactly). */
  query(b: Bounds, visit: (id: number) => void): void {
    const cx0 = Math.max(0, Math.floor(b.x0 / CELL));
    const cx1 = Math.min(this.columns - 1, Math.floor(b.x1 / CELL));
    const cy0 = Math.max(0, Math.floor(b.y0 / CELL));
    const cy1 = Math.max(cy0, Math.floor(b.y1 / CELL));
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const list = this.cells.get(this.key(cx, cy));
        if (list) for (const id of list) visit(id);
      }
    }
  }

  get extentWidth(): number { return this.width; }
}

export class Scene {
  readonly nodeBounds: Float64Array;
  readonly edgeBounds: Float64Array;
  readonly nodeGrid: SpatialGrid;
  readonly edgeGrid: SpatialGrid;
  readonly incoming: number[][];
  readonly outgoing: number[][];
  readonly bounds: Bounds;

  constructor(readonly graph: ViewGraph, readonly boxes: NodeBox[], readonly layout: LayoutResult) {
    const n = graph.nodes.length;
    this.nodeBounds = new Float64Array(4 * n);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = boxes[i].width / 2;
      const hgt = boxes[i].height / 2;
      const b = [layout.x[i] - w, layout.y[i] - hgt, layout.x[i] + w, layout.y[i] + hgt];
      this.nodeBounds.set(b, 4 * i);
      x0 = Math.min(x0, b[0]); y0 = Math.min(y0, b[1]); x1 = Math.max(x1, b[2]); y1 = Math.max(y1, b[3]);
    }
    const m = graph.edges.length;
    this.edgeBounds = new Float64Array(4 * m);
    for (let k = 0; k < m; k++) {
      let ex0 = Infinity, ey0 = Infinity, ex1 = -Infinity, ey1 = -Infinity;
      for (let p = layout.edgeOffsets[k]; p < layout.edgeOffsets[k + 1]; p++) {
        const px = layout.edgePoints[2 * p];
        const py = layout.edgePoints[2 * p + 1];
        ex0 = Math.min(ex0, px); ey0 = Math.min(ey0, py); ex1 = Math.max(ex1, px); ey1 = Math.max(ey1, py);
      }
      if (!Number.isFinite(ex0)) { ex0 = ey0 = ex1 = ey1 = 0; }
      this.edgeBounds.set([ex0, ey0, ex1, ey1], 4 * k);
      x0 = Math.min(x0, ex0); y0 = Math.min(y0, ey0); x1 = Math.max(x1, ex1); y1 = Math.max(y1, ey1);
    }
    if (!Number.isFinite(x0)) { x0 = y0 = 0; x1 = y1 = 1; }
    this.bounds = { x0, y0, x1, y1 };
    const gridWidth = Math.max(1, x1 - Math.min(0, x0));
    this.nodeGrid = new SpatialGrid(gridWidth, y1);
    this.edgeGrid = new SpatialGrid(gridWidth, y1);
    for (let i = 0; i < n; i++) this.nodeGrid.insert(i, this.nodeBoundsOf(i));
    for (let k = 0; k < m; k++) this.edgeGrid.insert(k, { x0: this.edgeBounds[4 * k], y0: this.edgeBounds[4 * k + 1], x1: this.edgeBounds[4 * k + 2], y1: this.edgeBounds[4 * k + 3] });
    this.incoming = Array.from({ length: n }, () => []);
    this.outgoing = Array.from({ length: n }, () => []);
    graph.edges.forEach((e, k) => { this.outgoing[e.from]?.push(k); this.incoming[e.to]?.push(k); });
  }

  nodeBoundsOf(i: number): Bounds {
    const b = this.nodeBounds;
    return { x0: b[4 * i], y0: b[4 * i + 1], x1: b[4 * i + 2], y1: b[4 * i + 3] };
  }

  /** Topmost node under a world point. */
  pick(wx: number, wy: number): number | undefined {
    let found: number | undefined;
    const b = this.nodeBounds;
    this.nodeGrid.query({ x0: wx, y0: wy, x1: wx, y1: wy }, (i) => {
      if (wx >= b[4 * i] && wx <= b[4 * i + 2] && wy >= b[4 * i + 1] && wy <= b[4 * i + 3]) found = i;
    });
    return found;
  }

  /** Distinct nodes / edges intersecting a world rectangle. */
  visibleNodes(view: Bounds, out: number[]): number[] {
    out.length = 0;
    const b = this.nodeBounds;
    const seen = new Set<number>();
    this.nodeGrid.query(view, (i) => {
      if (seen.has(i)) return;
      seen.add(i);
      if (b[4 * i + 2] >= view.x0 && b[4 * i] <= view.x1 && b[4 * i + 3] >= view.y0 && b[4 * i + 1] <= view.y1) out.push(i);
    });
    return out;
  }

  visibleEdges(view: Bounds, out: number[]): number[] {
    out.length = 0;
    const b = this.edgeBounds;
    const seen = new Set<number>();
    this.edgeGrid.query(view, (k) => {
      if (seen.has(k)) return;
      seen.add(k);
      if (b[4 * k + 2] >= view.x0 && b[4 * k] <= view.x1 && b[4 * k + 3] >= view.y0 && b[4 * k + 1] <= view.y1) out.push(k);
    });
    return out;
  }
}
