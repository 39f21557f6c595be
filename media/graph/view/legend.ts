// The SQNR legend shown while nodes are coloured by per-layer error.
import { ErrorOverlay, legendColor, OverlayMetric, SQNR_LEGEND } from '../../../src/graphmodel/error-overlay';
import { clear, h } from './dom';

export class Legend {
  readonly element = h('div', { class: 'legend', role: 'note', 'aria-label': 'Per-layer SQNR legend' });

  update(overlay: ErrorOverlay | null, visible: boolean, matched: number, unmeasuredColor: string, metric: OverlayMetric = 'accumulated'): void {
    clear(this.element);
    this.element.hidden = !overlay || !visible;
    if (!overlay || !visible) return;
    this.element.append(h('div', { class: 'title' }, metric === 'own' ? 'Own SQNR (error each layer adds)' : 'Per-layer SQNR (INT8 vs FP32)'));
    SQNR_LEGEND.forEach((band, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = legendColor(i);
      this.element.append(h('div', { class: 'row' }, swatch, band.label));
    });
    const grey = h('span', { class: 'swatch' });
    grey.style.background = unmeasuredColor;
    this.element.append(h('div', { class: 'row' }, grey, 'not measured'));
    this.element.append(h('div', { class: 'note' }, `${matched} nodes coloured · report: ${overlay.layers.length} layers`));
  }
}
