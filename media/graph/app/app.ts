// The graph viewer page: receives the view model from the host, lays scopes out in the worker, draws them, and
// handles selection, search, subgraph navigation, the side panels, the error overlay and exports.
import { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import type { Direction } from '../../../src/graphmodel/layout/types';
import type { HostToWebview, InitMessage } from '../../../src/protocol/graph';
import { findNodeByName } from '../../../src/graphmodel/search';
import type { ScopeInfo, ViewGraph } from '../../../src/graphmodel/types';
import { unpackGraph } from '../../../src/graphmodel/wire';
import { clear, h } from '../view/dom';
import { sceneToPng, sceneToSvg } from '../view/export-image';
import { Legend } from '../view/legend';
import { Scene } from '../view/scene';
import { watchTheme } from '../view/theme';
import { Toolbar } from '../view/toolbar';
import { CanvasView } from './canvas-view';
import { defaultState, HostApi, PersistedState } from './host';
import { handleKey } from './keyboard';
import { LayoutClient } from './layout-client';
import { chooseOverlayView, OverlayView } from './overlay-view';
import { attachPointerInput } from './pointer-input';
import { SceneCache } from './scene-cache';
import { SearchCursor } from './search-cursor';
import { exportName, nodeAcross, parentOf } from './navigation';
import { PageMetrics, reportFirstPaint } from './page-metrics';
import { SidePanel } from './side-panel';
import { focusSearch, GraphControls, keyTarget, OverlayChange, toolbarActions } from './user-input';

/** Below this zoom a fitted graph is unreadable: start at its top instead, like a document. */
const READABLE_SCALE = 0.35;
const START_SCALE = 0.85;


export class GraphApp implements GraphControls {
  readonly state: PersistedState;
  private init: InitMessage | undefined;
  private graphs = new Map<string, ViewGraph>();
  private scopes = new Map<string, ScopeInfo>();
  private readonly layoutClient: LayoutClient;
  private readonly scenes: SceneCache;
  readonly canvas = new CanvasView();
  readonly toolbar: Toolbar;
  private readonly sidePanel = new SidePanel();
  private readonly status = h('div', { class: 'status' });
  private readonly busy = h('div', { class: 'busy', role: 'status', hidden: true }, 'Laying out…');
  private readonly announcer = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  private readonly legend = new Legend();
  private overlay: OverlayIndex | null = null;
  overlayView: OverlayView | null = null;
  private readonly searchCursor = new SearchCursor();
  private sceneToken = 0;
  private built = false;
  private wired = false;
  private painted = false;
  private readyForReveal: Promise<void> = Promise.resolve();
  /** Exposed for tests and benchmarks (window.octetGraph). */
  readonly metrics: PageMetrics = { frames: 0 };

  constructor(private readonly root: HTMLElement, private readonly host: HostApi, workerUrl: string) {
    this.state = host.getState() ?? defaultState();
    this.layoutClient = new LayoutClient(workerUrl);
    this.scenes = new SceneCache(this.layoutClient, () => this.canvas.measure());
    this.toolbar = new Toolbar(toolbarActions(this));
    (window as unknown as { octetGraph: GraphApp }).octetGraph = this;
  }

  start(): void {
    this.host.onMessage((message) => this.onMessage(message));
    watchTheme(() => this.canvas.refreshTheme());
    performance.mark('octet:ready');
    this.host.post({ type: 'ready', pageAgeMs: Math.round(performance.now()) });
  }

  // ---- messages from the host ----

  private onMessage(message: HostToWebview): void {
    if (!message || typeof message !== 'object') return;
    switch (message.type) {
      case 'init': void this.onInit(message); return;
      case 'error': this.showError(message.title, message.message); return;
      case 'details':
        if (this.sidePanel.answer(message.requestId, message.details, message.error)) this.renderPanel();
        return;
      case 'overlay':
        if (this.init) this.init.overlay = message.overlay;
        this.setOverlay();
        return;
      case 'reveal': void this.reveal(message.node); return;
      case 'exported': this.setStatus(`Exported to ${message.path}`); return;
      default: return;
    }
  }

  private async onInit(message: InitMessage): Promise<void> {
    performance.mark('octet:init');
    const firstInit = !this.init;
    this.init = message;
    this.state.fold = message.fold;
    this.graphs = new Map(message.graphs.map((w) => { const g = unpackGraph(w); return [g.scope, g]; }));
    this.scopes = new Map(message.scopes.map((s) => [s.id, s]));
    this.scenes.clear();
    this.buildUi();
    this.setOverlay();
    const foldUseful = message.model.quantized || (message.model.opHistogram.Constant ?? 0) > 0;
    this.toolbar.setFold(foldUseful, message.fold);
    this.toolbar.setDirection(this.state.direction);
    const scope = this.scopes.has(this.state.scope) ? this.state.scope : 'main';
    const done = this.showScope(scope, { restore: true });
    this.readyForReveal = done.then(() => undefined, () => undefined);
    await done;
    if (firstInit && this.state.query) {
      this.toolbar.searchInput.value = this.state.query;
      this.search(this.state.query);
    }
    if (this.state.panel === 'model') this.togglePanel('model', true);
  }

  private buildUi(): void {
    if (this.built) return;
    this.built = true;
    clear(this.root);
    this.canvas.element.append(this.status, this.busy, this.legend.element);
    this.root.append(this.toolbar.element, h('div', { class: 'main' }, this.canvas.element, this.sidePanel.element), this.announcer);
    this.canvas.resize();
    // The error page can replace the view and a fixed file bring it back: wire the inputs once.
    if (this.wired) return;
    this.wired = true;
    attachPointerInput(this.canvas, {
      select: (node) => this.select(node),
      open: (node) => this.openSubgraph(node),
      hover: (node) => {
        this.canvas.options.hover = node;
        // A native tooltip names the node even when it is too small for its text.
        const n = node !== null ? this.graph?.nodes[node] : undefined;
        this.canvas.canvas.title = n ? (n.kind === 'op' ? `${n.opType} · ${n.label}` : n.label) : '';
        this.canvas.requestDraw();
      },
    });
    this.canvas.element.addEventListener('keydown', (e) => handleKey(e, keyTarget(this)));
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') { e.preventDefault(); focusSearch(this.toolbar); }
    });
    this.canvas.onFrame = (stats) => {
      this.metrics.frames++;
      this.metrics.lastFrameMs = stats.ms;
      this.metrics.drawnNodes = stats.nodes;
      this.saveViewport();
    };
  }

  private showError(title: string, message: string): void {
    clear(this.root);
    this.built = false;
    this.root.append(h('div', { class: 'octet-error', role: 'alert' }, h('h2', {}, title), h('pre', {}, message),
      h('p', {}, 'Open the file with another editor (“Reopen Editor With…”) to see its bytes, or re-export the model.')));
    this.host.post({ type: 'painted', firstPaintMs: -1, layoutMs: 0, algorithm: 'error', nodes: 0, at: Date.now() });
  }

  // ---- scopes and layout ----

  private get scope(): string { return this.state.scope; }
  private get graph(): ViewGraph | undefined { return this.graphs.get(this.state.scope); }

  private sceneKey(scope: string): string {
    return SceneCache.key(scope, this.state.direction, this.state.fold);
  }

  async showScope(scope: string, options: { restore?: boolean; select?: number | null } = {}): Promise<void> {
    if (!this.graphs.has(scope)) return;
    const token = ++this.sceneToken;
    const leaving = this.state.scope !== scope;
    this.state.scope = scope;
    const busyTimer = window.setTimeout(() => { this.busy.hidden = false; }, 120);
    let scene: Scene;
    try {
      scene = await this.scenes.get(this.graphs.get(scope)!, this.state.direction, this.state.fold);
    } finally {
      clearTimeout(busyTimer);
      this.busy.hidden = true;
    }
    if (token !== this.sceneToken) return;
    this.canvas.setScene(scene);
    const info = this.scopes.get(scope);
    this.toolbar.setPath((info?.path ?? [scope]).map((id) => this.scopes.get(id)).filter((s): s is ScopeInfo => Boolean(s)));
    const saved = this.state.viewports[this.sceneKey(scope)];
    if (options.restore && saved) this.canvas.viewport.set(saved);
    else this.canvas.viewport.set(this.initialView(scene));
    let selected: number | null = options.select ?? null;
    if (options.select === undefined && !leaving && this.state.selected) {
      selected = scene.graph.nodes.find((n) => n.label === this.state.selected)?.id ?? null;
    }
    // A new layout of the same scope (direction or Q/DQ toggled) keeps the selection in view.
    const keepInView = options.restore && !saved && selected !== null;
    this.applyHits();
    this.select(selected, { center: keepInView || (options.select !== undefined && options.select !== null), keepPanel: true });
    this.setOverlay();
    const algorithm = scene.layout.algorithm;
    this.setStatus(`${scene.graph.nodes.length.toLocaleString('en-US')} nodes · ${scene.graph.edges.length.toLocaleString('en-US')} edges · ${algorithm} layout ${Math.round(scene.layout.ms)} ms${this.layoutClient.fallbackReason ? ` (${this.layoutClient.fallbackReason})` : ''}`);
    this.persist();
    if (!this.painted) {
      this.painted = true;
      reportFirstPaint(this.canvas, scene, this.init?.openedAt, this.metrics, (m) => this.host.post(m));
    }
  }

  private initialView(scene: Scene) {
    const vp = this.canvas.viewport;
    const fit = vp.fitState(scene.bounds);
    return fit.scale >= READABLE_SCALE ? fit : vp.topState(scene.bounds, START_SCALE);
  }

  setDirection(direction: Direction): void {
    this.state.direction = direction;
    this.toolbar.setDirection(direction);
    void this.showScope(this.scope, { restore: true });
  }

  setFold(fold: boolean): void {
    this.state.fold = fold;
    this.persist();
    this.host.post({ type: 'setFold', fold });
  }

  private setOverlay(): void {
    const overlay = this.init?.overlay ?? null;
    this.overlay = overlay ? new OverlayIndex(overlay) : null;
    const view = chooseOverlayView(this.overlay, this.state);
    this.overlayView = view;
    this.canvas.options.overlay = view.on ? this.overlay : null;
    this.toolbar.setOverlay(view);
    const graph = this.graph;
    const index = this.overlay;
    const matched = graph && index ? graph.nodes.filter((n) => index.colorFor(n) !== null).length : 0;
    this.legend.update(index, view.on, matched, this.canvas.theme.category.constant);
    this.canvas.requestDraw();
    this.renderPanel();
  }

  changeOverlay(change: OverlayChange): void {
    Object.assign(this.state, change);
    this.setOverlay();
    this.persist();
  }

  // ---- selection and panels ----

  select(node: number | null, options: { center?: boolean; keepPanel?: boolean } = {}): void {
    const graph = this.graph;
    if (!graph) return;
    const valid = node !== null && node >= 0 && node < graph.nodes.length ? node : null;
    this.canvas.options.selected = valid;
    this.state.selected = valid !== null ? graph.nodes[valid].label : undefined;
    if (valid !== null) {
      const n = graph.nodes[valid];
      this.announcer.textContent = `${n.opType} ${n.label}`;
      if (this.state.panel !== 'model' || !options.keepPanel) this.state.panel = 'node';
      const requestId = this.sidePanel.ask(n.kind === 'op');
      if (requestId !== null) this.host.post({ type: 'details', requestId, scope: graph.scope, node: valid, fold: this.state.fold });
      if (options.center) this.centerOn(valid, false);
    } else if (this.state.panel === 'node') {
      this.state.panel = 'none';
    }
    this.renderPanel();
    this.canvas.requestDraw();
    this.persist();
  }

  private renderPanel(): void {
    this.sidePanel.render({
      init: this.init, graph: this.graph, scopes: this.scopes, overlay: this.overlay, selected: this.canvas.options.selected, panel: this.state.panel,
      openScope: (id) => void this.showScope(id), followTensor: (tensor, direction) => this.followTensor(tensor, direction),
    });
    // The canvas area changed width.
    requestAnimationFrame(() => this.canvas.resize());
  }

  togglePanel(panel: 'model', force = false): void {
    this.state.panel = this.state.panel === panel && !force ? (this.canvas.options.selected !== null ? 'node' : 'none') : panel;
    this.renderPanel();
    this.persist();
  }

  private followTensor(tensor: string, direction: 'input' | 'output'): void {
    const graph = this.graph;
    const selected = this.canvas.options.selected;
    if (!graph) return;
    const target = nodeAcross(graph, selected, tensor, direction);
    if (target !== undefined) this.select(target, { center: true });
  }

  openSubgraph(node: number): void {
    const link = this.graph?.nodes[node]?.subgraphs[0];
    if (link) void this.showScope(link.scope);
  }

  goToParent(): void {
    const parent = parentOf(this.scope, this.scopes, this.graphs);
    if (parent) void this.showScope(parent.scope, parent.owner !== undefined ? { select: parent.owner } : {});
  }

  fit(): void {
    const scene = this.canvas.scene;
    if (scene) this.canvas.viewport.animateTo(this.canvas.viewport.fitState(scene.bounds));
  }

  zoomToSelection(): void {
    const selected = this.canvas.options.selected;
    if (selected !== null) this.centerOn(selected, true);
  }

  private centerOn(node: number, zoom: boolean): void {
    const scene = this.canvas.scene;
    if (!scene) return;
    const vp = this.canvas.viewport;
    const x = scene.layout.x[node];
    const y = scene.layout.y[node];
    const scale = zoom ? Math.max(vp.scale, 1) : Math.max(vp.scale, READABLE_SCALE);
    vp.animateTo(vp.centerState(x, y, scale));
  }

  private saveViewport(): void {
    if (!this.canvas.scene) return;
    this.state.viewports[this.sceneKey(this.scope)] = this.canvas.viewport.state;
    this.persistSoon();
  }

  private persistTimer = 0;
  private persistSoon(): void {
    if (this.persistTimer) return;
    this.persistTimer = window.setTimeout(() => { this.persistTimer = 0; this.persist(); }, 250);
  }

  private persist(): void {
    // Keep only the viewports of this model's scopes (the state survives reloads of the same editor).
    if (this.scopes.size) {
      for (const key of Object.keys(this.state.viewports)) {
        if (!this.scopes.has(key.split('|')[0])) delete this.state.viewports[key];
      }
    }
    this.host.setState(this.state);
  }

  // ---- search ----

  /** Highlights every match; Enter / next moves to them one by one. */
  search(query: string): void {
    this.state.query = query;
    this.searchCursor.find([...this.graphs.values()], query, this.scope);
    this.applyHits();
    this.toolbar.setSearchCount(this.searchCursor.position, this.searchCursor.count, query);
    this.persist();
  }

  stepSearch(delta: 1 | -1): void {
    const hit = this.searchCursor.step(delta);
    if (!hit) return;
    this.toolbar.setSearchCount(this.searchCursor.position, this.searchCursor.count, this.state.query);
    const go = hit.scope === this.scope ? Promise.resolve() : this.showScope(hit.scope, { select: hit.node });
    void go.then(() => {
      this.applyHits();
      this.select(hit.node, { center: true });
    });
  }

  private applyHits(): void {
    const { nodes, current } = this.searchCursor.inScope(this.scope);
    this.canvas.options.hits = nodes;
    this.canvas.options.currentHit = current;
    this.canvas.requestDraw();
  }

  /** Selects a node by name (asked by the report panel). */
  async reveal(name: string): Promise<boolean> {
    await this.readyForReveal;
    const found = findNodeByName([...this.graphs.values()], name);
    if (found) {
      if (found.scope !== this.scope) await this.showScope(found.scope, { select: found.node });
      this.select(found.node);
      this.zoomToSelection();
      this.canvas.element.focus({ preventScroll: true });
    }
    this.host.post({ type: 'revealed', node: name, found: Boolean(found) });
    return Boolean(found);
  }

  exportImage(format: 'svg' | 'png'): void {
    const scene = this.canvas.scene;
    if (!scene || !this.init) return;
    try {
      const data = format === 'svg' ? sceneToSvg(scene, this.canvas.theme, this.canvas.options.overlay) : sceneToPng(scene, this.canvas.theme, this.canvas.options.overlay);
      this.host.post({ type: 'export', format, data, suggestedName: exportName(this.init.model.fileName, this.scope, format) });
    } catch (err) {
      this.setStatus(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }
}
