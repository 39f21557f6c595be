// The whole graph (not just the visible part) as an SVG document or a PNG data URL.
import { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import { formatShape, HEADER_HEIGHT, LINE_HEIGHT, PAD_X } from './node-boxes';
import { drawScene, nodeColor } from './renderer';
import { Scene } from './scene';
import { Theme } from './theme';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

export function sceneToSvg(scene: Scene, theme: Theme, overlay: OverlayIndex | null): string {
  const { x0, y0, x1, y1 } = scene.bounds;
  const pad = 20;
  const w = x1 - x0 + 2 * pad;
  const hgt = y1 - y0 + 2 * pad;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${n(w)}" height="${n(hgt)}" viewBox="${n(x0 - pad)} ${n(y0 - pad)} ${n(w)} ${n(hgt)}" font-family="${esc(theme.fontFamily)}">`);
  out.push(`<rect x="${n(x0 - pad)}" y="${n(y0 - pad)}" width="${n(w)}" height="${n(hgt)}" fill="${esc(theme.background)}"/>`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${esc(theme.edge)}"/></marker></defs>`);
  const { edgePoints: pts, edgeOffsets: off } = scene.layout;
  out.push('<g fill="none">');
  scene.graph.edges.forEach((e, k) => {
    const a = off[k];
    const b = off[k + 1];
    if (b - a < 2) return;
    let d = `M${n(pts[2 * a])},${n(pts[2 * a + 1])}`;
    for (let p = a + 1; p < b; p++) d += `L${n(pts[2 * p])},${n(pts[2 * p + 1])}`;
    out.push(`<path d="${d}" stroke="${esc(e.quantized ? theme.edgeQuantized : theme.edge)}" stroke-width="1.2" marker-end="url(#arrow)"><title>${esc(e.tensor)} ${esc(formatShape(e.shape))}</title></path>`);
  });
  out.push('</g>');
  scene.graph.nodes.forEach((node, i) => {
    const b = scene.nodeBoundsOf(i);
    const box = scene.boxes[i];
    const bw = b.x1 - b.x0;
    const bh = b.y1 - b.y0;
    const color = nodeColor(scene, i, theme, overlay);
    out.push(`<g><title>${esc(node.label)} (${esc(node.opType)})</title>`);
    if (box.pill) {
      out.push(`<rect x="${n(b.x0)}" y="${n(b.y0)}" width="${n(bw)}" height="${n(bh)}" rx="${n(bh / 2)}" fill="${esc(color)}"/>`);
      out.push(`<text x="${n(b.x0 + bw / 2)}" y="${n(b.y0 + HEADER_HEIGHT / 2 + 7)}" text-anchor="middle" font-size="12" font-weight="600" fill="#fff">${esc(box.title)}</text>`);
    } else {
      out.push(`<rect x="${n(b.x0)}" y="${n(b.y0)}" width="${n(bw)}" height="${n(bh)}" rx="4" fill="${esc(theme.nodeFill)}" stroke="${esc(theme.nodeBorder)}"/>`);
      out.push(`<path d="M${n(b.x0)},${n(b.y0 + HEADER_HEIGHT)}V${n(b.y0 + 4)}q0,-4 4,-4H${n(b.x1 - 4)}q4,0 4,4V${n(b.y0 + HEADER_HEIGHT)}z" fill="${esc(color)}"/>`);
      out.push(`<text x="${n(b.x0 + PAD_X)}" y="${n(b.y0 + 15)}" font-size="12" font-weight="600" fill="#fff">${esc(box.title)}${box.badge ? ` [${esc(box.badge)}]` : ''}</text>`);
      box.lines.forEach((line, li) => {
        out.push(`<text x="${n(b.x0 + PAD_X)}" y="${n(b.y0 + HEADER_HEIGHT + 2 + LINE_HEIGHT * li + 11)}" font-size="11" font-family="${esc(theme.monoFamily)}" fill="${esc(theme.foreground)}">${esc(line)}</text>`);
      });
      const label = overlay?.labelFor(node) ?? null;
      if (label !== null) out.push(`<text x="${n(b.x1)}" y="${n(b.y0 - 3)}" text-anchor="end" font-size="10" fill="${esc(overlay?.colorFor(node) ?? theme.category.constant)}">${esc(label)}</text>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Largest PNG we render: browsers refuse canvases much past 16k pixels a side or ~250 M pixels. */
const MAX_SIDE = 8192;
const MAX_PIXELS = 40e6;

export function sceneToPng(scene: Scene, theme: Theme, overlay: OverlayIndex | null): string {
  const { x0, y0, x1, y1 } = scene.bounds;
  const pad = 20;
  const w = x1 - x0 + 2 * pad;
  const hgt = y1 - y0 + 2 * pad;
  const scale = Math.min(2, MAX_SIDE / w, MAX_SIDE / hgt, Math.sqrt(MAX_PIXELS / (w * hgt)));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(hgt * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas available');
  drawScene(ctx, scene, { scale, x: (pad - x0) * scale, y: (pad - y0) * scale, width: canvas.width, height: canvas.height }, theme,
    { selected: null, hover: null, hits: new Set(), currentHit: null, overlay }, 1);
  return canvas.toDataURL('image/png');
}
