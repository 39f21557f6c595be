// Toolbar: breadcrumb through subgraphs, search with previous/next, and the view commands.
import type { ScopeInfo } from '../../../src/graphmodel/types';
import type { OverlayView, Toggle } from '../app/overlay-view';
import { button, clear, h } from './dom';

export interface ToolbarActions {
  openScope(scope: string): void;
  search(query: string): void;
  searchStep(delta: 1 | -1): void;
  fit(): void;
  zoomToSelection(): void;
  toggleDirection(): void;
  toggleFold(): void;
  toggleOverlay(): void;
  toggleOverlayMetric(): void;
  toggleTime(): void;
  toggleTimeMetric(): void;
  showModel(): void;
  exportSvg(): void;
  exportPng(): void;
  focusCanvas(): void;
}

export class Toolbar {
  readonly element: HTMLElement;
  readonly searchInput: HTMLInputElement;
  private readonly breadcrumb = h('nav', { class: 'breadcrumb', 'aria-label': 'Graph path' });
  private readonly count = h('span', { class: 'count', 'aria-live': 'polite' });
  private readonly directionButton: HTMLButtonElement;
  private readonly foldButton: HTMLButtonElement;
  private readonly overlayButton: HTMLButtonElement;
  private readonly metricButton: HTMLButtonElement;
  private readonly timeButton: HTMLButtonElement;
  private readonly gainButton: HTMLButtonElement;
  private debounce = 0;

  constructor(private readonly actions: ToolbarActions) {
    this.searchInput = h('input', { type: 'search', placeholder: 'Search name, op, tensor', 'aria-label': 'Search nodes', spellcheck: 'false' });
    this.searchInput.addEventListener('input', () => {
      clearTimeout(this.debounce);
      this.debounce = window.setTimeout(() => actions.search(this.searchInput.value), 120);
    });
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        clearTimeout(this.debounce);
        actions.search(this.searchInput.value);
        actions.searchStep(e.shiftKey ? -1 : 1);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        actions.focusCanvas();
      }
    });
    this.directionButton = button('↓ TB', 'Layout direction: top-down / left-right', actions.toggleDirection);
    this.foldButton = button('Q/DQ folded', 'Show QuantizeLinear/DequantizeLinear and Constant nodes raw, or folded into their ops', actions.toggleFold, { 'aria-pressed': 'true' });
    this.overlayButton = button('SQNR colours', 'Colour nodes by per-layer error from the report', actions.toggleOverlay, { 'aria-pressed': 'true' });
    this.metricButton = button('Own error', 'Colour by the error each layer adds itself instead of the error accumulated up to it', actions.toggleOverlayMetric, { 'aria-pressed': 'false' });
    this.timeButton = button('Time', 'Colour nodes by where the time goes: the report’s per-node profile of the FP32 and INT8 models', actions.toggleTime, { 'aria-pressed': 'false' });
    this.gainButton = button('By gain', 'Colour by the gain FP32 ÷ INT8 (Q/DQ included) instead of the INT8 time', actions.toggleTimeMetric, { 'aria-pressed': 'false' });
    const search = h('div', { class: 'search', role: 'search' }, this.searchInput,
      button('↑', 'Previous match (Shift+Enter)', () => actions.searchStep(-1)),
      button('↓', 'Next match (Enter)', () => actions.searchStep(1)), this.count);
    this.element = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Graph viewer' },
      this.breadcrumb, h('span', { class: 'spacer' }), search,
      button('Fit', 'Fit the graph (F)', actions.fit),
      button('Zoom to selection', 'Zoom to the selected node (Z)', actions.zoomToSelection),
      this.directionButton, this.foldButton, this.overlayButton, this.metricButton, this.timeButton, this.gainButton,
      button('Model', 'Model properties (M)', actions.showModel),
      button('SVG', 'Export the graph as SVG', actions.exportSvg),
      button('PNG', 'Export the graph as PNG', actions.exportPng));
  }

  setPath(path: ScopeInfo[]): void {
    clear(this.breadcrumb);
    path.forEach((scope, i) => {
      if (i > 0) this.breadcrumb.append(h('span', { class: 'sep', 'aria-hidden': 'true' }, '›'));
      const last = i === path.length - 1;
      const b = button(scope.kind === 'main' ? 'main' : scope.title, last ? 'Current graph' : `Go to ${scope.title}`, () => this.actions.openScope(scope.id));
      if (last) b.setAttribute('aria-current', 'page');
      this.breadcrumb.append(b);
    });
  }

  setSearchCount(index: number, total: number, query: string): void {
    this.count.textContent = !query.trim() ? '' : total === 0 ? 'no match' : `${index + 1} of ${total}`;
  }

  setDirection(direction: 'TB' | 'LR'): void {
    this.directionButton.textContent = direction === 'TB' ? '↓ TB' : '→ LR';
  }

  setFold(available: boolean, fold: boolean): void {
    this.foldButton.hidden = !available;
    this.foldButton.setAttribute('aria-pressed', String(fold));
    this.foldButton.textContent = fold ? 'Q/DQ folded' : 'Q/DQ raw';
  }

  setOverlay(view: OverlayView): void {
    const show = (b: HTMLButtonElement, toggle: Toggle) => {
      b.hidden = !toggle.available;
      b.setAttribute('aria-pressed', String(toggle.on));
    };
    show(this.overlayButton, view.error);
    show(this.metricButton, view.own);
    show(this.timeButton, view.time);
    show(this.gainButton, view.gain);
  }
}
