// Canvas drawing of a Scene: only what intersects the viewport is drawn (no DOM per node), with a cheap
// block level of detail when boxes are too small to read.
import { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import { BODY_FONT_PX, formatShape, HEADER_FONT_PX, HEADER_HEIGHT, LINE_HEIGHT, PAD_X } from './node-boxes';
import { Bounds, Scene } from './scene';
import { Theme } from './theme';

export interface RenderOptions {
  selected: number | null;
  hover: number | null;
  hits: ReadonlySet<number>;
  currentHit: number | null;
  /** Colour nodes by the report: per-layer SQNR, or time (the index's metric says which). */
  overlay: OverlayIndex | null;
}

export interface RenderStats { nodes: number; edges: number; ms: number; detail: 'full' | 'blocks' }

export interface Camera { scale: number; x: number; y: number; width: number; height: number }

const visibleNodeBuffer: number[] = [];
const visibleEdgeBuffer: number[] = [];

export function headerFont(theme: Theme): string { return `600 ${HEADER_FONT_PX}px ${theme.fontFamily}`; }
export function bodyFont(theme: Theme): string { return `${BODY_FONT_PX}px ${theme.monoFamily}`; }

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  const rr = Math.min(r, w / 2, h / 2);
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}

export function nodeColor(scene: Scene, i: number, theme: Theme, overlay: OverlayIndex | null): string {
  const node = scene.graph.nodes[i];
  if (overlay && node.kind === 'op') return overlay.colorFor(node) ?? theme.category.constant;
  return theme.category[node.category] ?? theme.category.other;
}

function traceEdge(ctx: CanvasRenderingContext2D, scene: Scene, k: number, smooth: boolean): void {
  const { edgePoints: pts, edgeOffsets: off } = scene.layout;
  const a = off[k];
  const b = off[k + 1];
  if (b - a < 2) return;
  ctx.moveTo(pts[2 * a], pts[2 * a + 1]);
  if (!smooth || b - a === 2) {
    for (let p = a + 1; p < b; p++) ctx.lineTo(pts[2 * p], pts[2 * p + 1]);
    return;
  }
  for (let p = a + 1; p < b - 1; p++) {
    const mx = (pts[2 * p] + pts[2 * p + 2]) / 2;
    const my = (pts[2 * p + 1] + pts[2 * p + 3]) / 2;
    ctx.quadraticCurveTo(pts[2 * p], pts[2 * p + 1], mx, my);
  }
  ctx.lineTo(pts[2 * (b - 1)], pts[2 * (b - 1) + 1]);
}

function arrowHead(ctx: CanvasRenderingContext2D, scene: Scene, k: number): void {
  const { edgePoints: pts, edgeOffsets: off } = scene.layout;
  const b = off[k + 1] - 1;
  const a = off[k];
  if (b - a < 1) return;
  const x = pts[2 * b];
  const y = pts[2 * b + 1];
  let dx = x - pts[2 * (b - 1)];
  let dy = y - pts[2 * (b - 1) + 1];
  const len = Math.hypot(dx, dy) || 1;
  dx /= len; dy /= len;
  const size = 6;
  ctx.moveTo(x, y);
  ctx.lineTo(x - dx * size - dy * size * 0.5, y - dy * size + dx * size * 0.5);
  ctx.lineTo(x - dx * size + dy * size * 0.5, y - dy * size - dx * size * 0.5);
  ctx.closePath();
}

/** Middle of an edge's polyline, for its label. */
function edgeMidpoint(scene: Scene, k: number): [number, number] {
  const { edgePoints: pts, edgeOffsets: off } = scene.layout;
  const a = off[k];
  const b = off[k + 1];
  let total = 0;
  for (let p = a + 1; p < b; p++) total += Math.hypot(pts[2 * p] - pts[2 * p - 2], pts[2 * p + 1] - pts[2 * p - 1]);
  let walked = 0;
  for (let p = a + 1; p < b; p++) {
    const seg = Math.hypot(pts[2 * p] - pts[2 * p - 2], pts[2 * p + 1] - pts[2 * p - 1]);
    if (walked + seg >= total / 2 && seg > 0) {
      const t = (total / 2 - walked) / seg;
      return [pts[2 * p - 2] + (pts[2 * p] - pts[2 * p - 2]) * t, pts[2 * p - 1] + (pts[2 * p + 1] - pts[2 * p - 1]) * t];
    }
    walked += seg;
  }
  return [pts[2 * a], pts[2 * a + 1]];
}

export function drawScene(ctx: CanvasRenderingContext2D, scene: Scene, camera: Camera, theme: Theme, opts: RenderOptions, dpr: number, view?: Bounds): RenderStats {
  const start = performance.now();
  const s = camera.scale;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, camera.width, camera.height);
  ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * camera.x, dpr * camera.y);
  const world = view ?? {
    x0: -camera.x / s, y0: -camera.y / s, x1: (camera.width - camera.x) / s, y1: (camera.height - camera.y) / s,
  };
  const nodes = scene.visibleNodes(world, visibleNodeBuffer);
  const edges = scene.visibleEdges(world, visibleEdgeBuffer);
  const detail: RenderStats['detail'] = s * HEADER_HEIGHT < 7 ? 'blocks' : 'full';
  const px = 1 / s;
  const selectedEdges = new Set<number>();
  if (opts.selected !== null) {
    for (const k of scene.incoming[opts.selected] ?? []) selectedEdges.add(k);
    for (const k of scene.outgoing[opts.selected] ?? []) selectedEdges.add(k);
  }

  // Edges: plain ones in one path, quantized ones in another, the selection's on top.
  ctx.lineWidth = detail === 'full' ? Math.max(1, 1.2 * px) : Math.max(0.6, px);
  ctx.lineJoin = 'round';
  const smooth = detail === 'full';
  for (const quantized of [false, true]) {
    ctx.beginPath();
    for (const k of edges) {
      if (selectedEdges.has(k) || Boolean(scene.graph.edges[k].quantized) !== quantized) continue;
      traceEdge(ctx, scene, k, smooth);
    }
    ctx.strokeStyle = quantized ? theme.edgeQuantized : theme.edge;
    ctx.stroke();
    if (detail === 'full') {
      ctx.beginPath();
      for (const k of edges) if (!selectedEdges.has(k) && Boolean(scene.graph.edges[k].quantized) === quantized) arrowHead(ctx, scene, k);
      ctx.fillStyle = quantized ? theme.edgeQuantized : theme.edge;
      ctx.fill();
    }
  }
  if (selectedEdges.size) {
    ctx.beginPath();
    for (const k of selectedEdges) traceEdge(ctx, scene, k, smooth);
    ctx.strokeStyle = theme.selection;
    ctx.lineWidth = Math.max(2, 2.2 * px);
    ctx.stroke();
    ctx.beginPath();
    for (const k of selectedEdges) arrowHead(ctx, scene, k);
    ctx.fillStyle = theme.selection;
    ctx.fill();
  }

  const b = scene.nodeBounds;
  if (detail === 'blocks') {
    const byColor = new Map<string, number[]>();
    for (const i of nodes) {
      const c = nodeColor(scene, i, theme, opts.overlay);
      const list = byColor.get(c);
      if (list) list.push(i); else byColor.set(c, [i]);
    }
    // Zoomed far out, keep every node at least ~2 screen pixels so the graph's structure stays visible.
    const minSize = 2 * px;
    for (const [color, ids] of byColor) {
      ctx.beginPath();
      for (const i of ids) {
        const w = Math.max(minSize, b[4 * i + 2] - b[4 * i]);
        const hh = Math.max(minSize, b[4 * i + 3] - b[4 * i + 1]);
        ctx.rect((b[4 * i] + b[4 * i + 2] - w) / 2, (b[4 * i + 1] + b[4 * i + 3] - hh) / 2, w, hh);
      }
      ctx.fillStyle = color;
      ctx.fill();
    }
  } else {
    drawLabels(ctx, scene, edges, theme, s);
    for (const i of nodes) drawNode(ctx, scene, i, theme, opts, px);
  }

  // Highlights stay visible at every zoom: at least 3 screen pixels wide.
  const ring = (i: number, color: string, widthPx: number, fill?: string) => {
    const pad = widthPx * px;
    const x = b[4 * i] - pad;
    const y = b[4 * i + 1] - pad;
    const w = b[4 * i + 2] - b[4 * i] + 2 * pad;
    const hh = b[4 * i + 3] - b[4 * i + 1] + 2 * pad;
    const minSize = 8 * px;
    const cx = x + w / 2;
    const cy = y + hh / 2;
    const ww = Math.max(w, minSize);
    const hw = Math.max(hh, minSize);
    ctx.beginPath();
    roundRect(ctx, cx - ww / 2, cy - hw / 2, ww, hw, 5);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    ctx.strokeStyle = color;
    ctx.lineWidth = widthPx * px;
    ctx.stroke();
  };
  for (const i of opts.hits) if (i !== opts.currentHit && nodeVisible(b, i, world)) ring(i, theme.searchCurrent, 2);
  if (opts.currentHit !== null) ring(opts.currentHit, theme.searchCurrent, 3);
  if (opts.hover !== null && opts.hover !== opts.selected) ring(opts.hover, theme.muted, 1.5);
  if (opts.selected !== null) ring(opts.selected, theme.selection, 3);
  return { nodes: nodes.length, edges: edges.length, ms: performance.now() - start, detail };
}

function nodeVisible(b: Float64Array, i: number, w: Bounds): boolean {
  return b[4 * i + 2] >= w.x0 && b[4 * i] <= w.x1 && b[4 * i + 3] >= w.y0 && b[4 * i + 1] <= w.y1;
}

function drawLabels(ctx: CanvasRenderingContext2D, scene: Scene, edges: number[], theme: Theme, s: number): void {
  if (s < 0.6) return;
  ctx.font = `${10}px ${theme.monoFamily}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  for (const k of edges) {
    const e = scene.graph.edges[k];
    const text = formatShape(e.shape);
    if (!text) continue;
    const [mx, my] = edgeMidpoint(scene, k);
    const w = ctx.measureText(text).width;
    ctx.fillStyle = theme.labelBackground;
    ctx.globalAlpha = 0.85;
    ctx.fillRect(mx + 3, my - 6, w + 4, 12);
    ctx.globalAlpha = 1;
    ctx.fillStyle = e.quantized ? theme.edgeQuantized : theme.muted;
    ctx.fillText(text, mx + 5, my);
  }
}

function drawNode(ctx: CanvasRenderingContext2D, scene: Scene, i: number, theme: Theme, opts: RenderOptions, px: number): void {
  const b = scene.nodeBounds;
  const x = b[4 * i];
  const y = b[4 * i + 1];
  const w = b[4 * i + 2] - x;
  const hgt = b[4 * i + 3] - y;
  const box = scene.boxes[i];
  const node = scene.graph.nodes[i];
  const color = nodeColor(scene, i, theme, opts.overlay);
  ctx.lineWidth = Math.max(1, px);
  if (box.pill) {
    ctx.beginPath();
    roundRect(ctx, x, y, w, hgt, hgt / 2);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.font = headerFont(theme);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const lines = box.lines.length;
    ctx.fillText(ellipsize(ctx, box.title, w - 16), x + w / 2, y + (lines ? HEADER_HEIGHT / 2 + 3 : hgt / 2));
    if (lines) {
      ctx.font = bodyFont(theme);
      ctx.globalAlpha = 0.85;
      ctx.fillText(ellipsize(ctx, box.lines[0], w - 16), x + w / 2, y + HEADER_HEIGHT + LINE_HEIGHT / 2 - 1);
      ctx.globalAlpha = 1;
    }
    return;
  }
  ctx.beginPath();
  roundRect(ctx, x, y, w, hgt, 4);
  ctx.fillStyle = theme.nodeFill;
  ctx.fill();
  ctx.strokeStyle = theme.nodeBorder;
  ctx.stroke();
  ctx.save();
  ctx.beginPath();
  roundRect(ctx, x, y, w, hgt, 4);
  ctx.clip();
  ctx.fillStyle = color;
  ctx.fillRect(x, y, w, HEADER_HEIGHT);
  ctx.restore();
  ctx.font = headerFont(theme);
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = '#ffffff';
  let badgeWidth = 0;
  if (box.badge) {
    ctx.font = bodyFont(theme);
    badgeWidth = ctx.measureText(box.badge).width + 8;
    const bx = x + w - PAD_X - badgeWidth + 4;
    ctx.beginPath();
    roundRect(ctx, bx, y + 4, badgeWidth, HEADER_HEIGHT - 8, 6);
    ctx.fillStyle = 'rgba(255,255,255,0.9)';
    ctx.fill();
    ctx.fillStyle = theme.category.quantize;
    ctx.fillText(box.badge, bx + 4, y + HEADER_HEIGHT / 2 + 0.5);
    ctx.font = headerFont(theme);
    ctx.fillStyle = '#ffffff';
  }
  ctx.fillText(ellipsize(ctx, box.title, w - 2 * PAD_X - badgeWidth), x + PAD_X, y + HEADER_HEIGHT / 2 + 0.5);
  if (box.lines.length) {
    ctx.font = bodyFont(theme);
    ctx.fillStyle = theme.foreground;
    box.lines.forEach((line, li) => {
      ctx.fillText(ellipsize(ctx, line, w - 2 * PAD_X), x + PAD_X, y + HEADER_HEIGHT + 2 + LINE_HEIGHT * li + LINE_HEIGHT / 2);
    });
  }
  const text = opts.overlay && node.kind === 'op' ? opts.overlay.labelFor(node) : null;
  if (opts.overlay && text !== null) {
    ctx.font = bodyFont(theme);
    const tw = ctx.measureText(text).width + 8;
    const tx = x + w - tw;
    const ty = y - 14;
    ctx.beginPath();
    roundRect(ctx, tx, ty, tw, 13, 6);
    ctx.fillStyle = opts.overlay.colorFor(node) ?? theme.category.constant;
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.fillText(text, tx + 4, ty + 7);
  }
}

const ellipsisCache = new Map<string, string>();

function ellipsize(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  const key = `${ctx.font}|${Math.round(max)}|${text}`;
  const hit = ellipsisCache.get(key);
  if (hit !== undefined) return hit;
  let out = text;
  if (ctx.measureText(text).width > max) {
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(`${text.slice(0, mid)}…`).width <= max) lo = mid; else hi = mid - 1;
    }
    out = `${text.slice(0, lo)}…`;
  }
  if (ellipsisCache.size > 20_000) ellipsisCache.clear();
  ellipsisCache.set(key, out);
  return out;
}
