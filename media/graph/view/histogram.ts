// A small histogram as inline SVG (no inline styles: colours come from graph.css).
import type { Histogram } from '../../../src/graphmodel/tensor-stats';
import { h, svg } from './dom';
import { formatValue } from './format';

export function histogramView(hist: Histogram, label: string): HTMLElement {
  const width = 300;
  const height = 56;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'histogram', role: 'img', 'aria-label': label });
  const max = Math.max(1, ...hist.counts);
  const bar = width / Math.max(1, hist.counts.length);
  hist.counts.forEach((c, i) => {
    const bh = c === 0 ? 0 : Math.max(1, (Math.sqrt(c) / Math.sqrt(max)) * (height - 4));
    root.append(svg('rect', { x: (i * bar + 0.5).toFixed(1), y: (height - bh).toFixed(1), width: Math.max(1, bar - 1).toFixed(1), height: bh.toFixed(1) }));
  });
  if (hist.min < 0 && hist.max > 0) {
    const zx = ((0 - hist.min) / (hist.max - hist.min)) * width;
    root.append(svg('line', { x1: zx.toFixed(1), x2: zx.toFixed(1), y1: 0, y2: height }));
  }
  const title = svg('title');
  title.textContent = `${label} (bar height: square root of count)`;
  root.append(title);
  return h('div', {}, root as unknown as Node, h('div', { class: 'note' }, `${formatValue(hist.min)} … ${formatValue(hist.max)}`));
}
