// How the user's toolbar clicks and keys reach the graph viewer: the toolbar's actions and the keyboard's target,
// built from the controls the page exposes.
import type { Direction } from '../../../src/graphmodel/layout/types';
import type { Toolbar, ToolbarActions } from '../view/toolbar';
import type { CanvasView } from './canvas-view';
import type { PersistedState } from './host';
import type { KeyTarget } from './keyboard';
import { OverlayView, toggleOverlayKind } from './overlay-view';

export type OverlayChange = Partial<Pick<PersistedState, 'overlayOn' | 'overlayKind' | 'overlayMetric' | 'timeMetric'>>;

/** What the graph page lets its inputs do. */
export interface GraphControls {
  readonly state: PersistedState;
  readonly canvas: CanvasView;
  readonly toolbar: Toolbar;
  readonly overlayView: OverlayView | null;
  showScope(scope: string): Promise<void>;
  search(query: string): void;
  stepSearch(delta: 1 | -1): void;
  fit(): void;
  zoomToSelection(): void;
  setDirection(direction: Direction): void;
  setFold(fold: boolean): void;
  changeOverlay(change: OverlayChange): void;
  togglePanel(panel: 'model'): void;
  exportImage(format: 'svg' | 'png'): void;
  select(node: number | null, options?: { center?: boolean }): void;
  openSubgraph(node: number): void;
  goToParent(): void;
}

export function toolbarActions(app: GraphControls): ToolbarActions {
  const toggleKind = (kind: 'error' | 'time') => app.changeOverlay(app.overlayView ? toggleOverlayKind(app.overlayView, kind) : {});
  return {
    openScope: (scope) => void app.showScope(scope),
    search: (query) => app.search(query),
    searchStep: (delta) => app.stepSearch(delta),
    fit: () => app.fit(),
    zoomToSelection: () => app.zoomToSelection(),
    toggleDirection: () => app.setDirection(app.state.direction === 'TB' ? 'LR' : 'TB'),
    toggleFold: () => app.setFold(!app.state.fold),
    toggleOverlay: () => toggleKind('error'),
    toggleOverlayMetric: () => app.changeOverlay({ overlayMetric: app.state.overlayMetric === 'own' ? 'accumulated' : 'own' }),
    toggleTime: () => toggleKind('time'),
    toggleTimeMetric: () => app.changeOverlay({ timeMetric: app.state.timeMetric === 'gain' ? 'int8Ms' : 'gain' }),
    showModel: () => app.togglePanel('model'),
    exportSvg: () => app.exportImage('svg'),
    exportPng: () => app.exportImage('png'),
    focusCanvas: () => app.canvas.element.focus(),
  };
}

export function focusSearch(toolbar: Toolbar): void {
  toolbar.searchInput.focus();
  toolbar.searchInput.select();
}

export function keyTarget(app: GraphControls): KeyTarget {
  return {
    scene: () => app.canvas.scene,
    direction: () => app.state.direction,
    selected: () => app.canvas.options.selected,
    select: (node) => app.select(node, { center: true }),
    viewport: () => app.canvas.viewport,
    fit: () => app.fit(),
    zoomToSelection: () => app.zoomToSelection(),
    openSubgraph: (node) => app.openSubgraph(node),
    goToParent: () => app.goToParent(),
    focusSearch: () => focusSearch(app.toolbar),
    searchStep: (delta) => app.stepSearch(delta),
    showModel: () => app.togglePanel('model'),
  };
}
