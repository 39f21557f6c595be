// The legend shown while nodes are coloured by the report: per-layer SQNR bands, or the Time overlay's INT8-time or
// gain bands, with the grey of unmeasured nodes and how many nodes the report coloured.
import { isTimeMetric, legendColor, OverlayIndex, SQNR_LEGEND } from '../../../src/graphmodel/error-overlay';
import { formatKernelMs, gainLegend, int8TimeLegend, LegendBand } from '../../../src/graphmodel/time-profile';
import { clear, h } from './dom';

function swatchRow(color: string, label: string): HTMLElement {
  const swatch = h('span', { class: 'swatch' });
  swatch.style.background = color;
  return h('div', { class: 'row' }, swatch, label);
}

export class Legend {
  readonly element = h('div', { class: 'legend', role: 'note', 'aria-label': 'Overlay legend' });

  update(index: OverlayIndex | null, visible: boolean, matched: number, unmeasuredColor: string): void {
    clear(this.element);
    this.element.hidden = !index || !visible;
    if (!index || !visible) return;
    const time = index.overlay.time;
    let title: string;
    let bands: LegendBand[];
    let unmeasured: string;
    let note: string;
    if (isTimeMetric(index.metric) && time) {
      const gain = index.metric === 'gain';
      title = gain ? 'Gain FP32 ÷ INT8 per node (Q/DQ included)' : 'INT8 time per node (share of INT8 kernel time)';
      bands = gain ? gainLegend() : int8TimeLegend(time.int8TotalMs);
      unmeasured = gain ? 'not profiled, or no time of its own' : 'not profiled';
      note = `${matched} nodes coloured · profile: ${time.nodes.length} nodes, FP32 ${formatKernelMs(time.fp32TotalMs)} → INT8 ${formatKernelMs(time.int8TotalMs)} per run`;
    } else {
      title = index.metric === 'own' ? 'Own SQNR (error each layer adds)' : 'Per-layer SQNR (INT8 vs FP32)';
      bands = SQNR_LEGEND.map((band, i) => ({ label: band.label, color: legendColor(i) }));
      unmeasured = 'not measured';
      note = `${matched} nodes coloured · report: ${index.overlay.layers.length} layers`;
    }
    this.element.append(h('div', { class: 'title' }, title), ...bands.map((b) => swatchRow(b.color, b.label)), swatchRow(unmeasuredColor, unmeasured),
      h('div', { class: 'note' }, note));
    if (isTimeMetric(index.metric) && time?.fasterThanFp32 === false) {
      this.element.append(h('div', { class: 'note warn' }, 'INT8 is not faster than FP32 on this CPU (see the report).'));
    }
  }
}
