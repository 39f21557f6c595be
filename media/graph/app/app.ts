// The graph viewer page: receives the view model from the host, lays scopes out in the worker, draws them, and
// handles selection, search, subgraph navigation, the side panels, the error overlay and exports.
import { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import type { Direction, LayoutResult } from '../../../src/graphmodel/layout/types';
import type { HostToWebview, InitMessage, NodeDetails } from '../../../src/protocol/graph';
import { findNodeByName, SearchHit, searchGraphs } from '../../../src/graphmodel/search';
import type { ScopeInfo, ViewGraph } from '../../../src/graphmodel/types';
import { unpackGraph } from '../../../src/graphmodel/wire';
import { clear, h } from '../view/dom';
import { sceneToPng, sceneToSvg } from '../view/export-image';
import { Legend } from '../view/legend';
import { renderModelPanel } from '../view/model-panel';
import { nodeBox } from '../view/node-boxes';
import { renderNodePanel } from '../view/node-panel';
import { Scene } from '../view/scene';
import { watchTheme } from '../view/theme';
import { Toolbar } from '../view/toolbar';
import { CanvasView } from './canvas-view';
import { defaultState, HostApi, PersistedState } from './host';
import { handleKey } from './keyboard';
import { LayoutClient } from './layout-client';
import { chooseOverlayView, OverlayView, toggleOverlayKind } from './overlay-view';
import { attachPointerInput } from './pointer-input';

/** Below this zoom a fitted graph is unreadable: start at its top instead, like a document. */
const READABLE_SCALE = 0.35;
const START_SCALE = 0.85;

type DetailsState = NodeDetails | 'loading' | { error: string } | null;

export class GraphApp {
  private state: PersistedState;
  private init: InitMessage | undefined;
  private graphs = new Map<string, ViewGraph>();
  private scopes = new Map<string, ScopeInfo>();
  private readonly scenes = new Map<string, Promise<Scene>>();
  private readonly layoutClient: LayoutClient;
  private readonly canvas = new CanvasView();
  private readonly toolbar: Toolbar;
  private readonly panel = h('aside', { class: 'panel', 'aria-label': 'Details', hidden: true });
  private readonly status = h('div', { class: 'status' });
  private readonly busy = h('div', { class: 'busy', role: 'status', hidden: true }, 'Laying out…');
  private readonly announcer = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  private readonly legend = new Legend();
  private overlay: OverlayIndex | null = null;
  private overlayView: OverlayView | null = null;
  private hits: SearchHit[] = [];
  private hitIndex = -1;
  private details: DetailsState = null;
  private detailsRequest = 0;
  private sceneToken = 0;
  private built = false;
  private wired = false;
  private painted = false;
  private readyForReveal: Promise<void> = Promise.resolve();
  /** Exposed for tests and benchmarks (window.octetGraph). */
  readonly metrics: { firstPaintMs?: number; layoutMs?: number; algorithm?: string; lastFrameMs?: number; frames: number; drawnNodes?: number } = { frames: 0 };

  constructor(private readonly root: HTMLElement, private readonly host: HostApi, workerUrl: string) {
    this.state = host.getState() ?? defaultState();
    this.layoutClient = new LayoutClient(workerUrl);
    this.toolbar = new Toolbar({
      openScope: (scope) => void this.showScope(scope),
      search: (query) => this.search(query),
      searchStep: (delta) => this.stepSearch(delta),
      fit: () => this.fit(),
      zoomToSelection: () => this.zoomToSelection(),
      toggleDirection: () => this.setDirection(this.state.direction === 'TB' ? 'LR' : 'TB'),
      toggleFold: () => this.setFold(!this.state.fold),
      toggleOverlay: () => this.changeOverlay(this.overlayView ? toggleOverlayKind(this.overlayView, 'error') : {}),
      toggleOverlayMetric: () => this.changeOverlay({ overlayMetric: this.state.overlayMetric === 'own' ? 'accumulated' : 'own' }),
      toggleTime: () => this.changeOverlay(this.overlayView ? toggleOverlayKind(this.overlayView, 'time') : {}),
      toggleTimeMetric: () => this.changeOverlay({ timeMetric: this.state.timeMetric === 'gain' ? 'int8Ms' : 'gain' }),
      showModel: () => this.togglePanel('model'),
      exportSvg: () => this.exportImage('svg'),
      exportPng: () => this.exportImage('png'),
      focusCanvas: () => this.canvas.element.focus(),
    });
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
        if (message.requestId !== this.detailsRequest) return;
        this.details = message.details ?? { error: message.error ?? 'unknown error' };
        this.renderPanel();
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
    this.root.append(this.toolbar.element, h('div', { class: 'main' }, this.canvas.element, this.panel), this.announcer);
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
    this.canvas.element.addEventListener('keydown', (e) => handleKey(e, this.keyTarget()));
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') { e.preventDefault(); this.toolbar.searchInput.focus(); this.toolbar.searchInput.select(); }
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
    return `${scope}|${this.state.direction}|${this.state.fold}`;
  }

  private sceneFor(scope: string): Promise<Scene> {
    const key = this.sceneKey(scope);
    let scene = this.scenes.get(key);
    if (!scene) {
      const graph = this.graphs.get(scope);
      if (!graph) return Promise.reject(new Error(`no graph '${scope}'`));
      scene = this.layoutScene(graph);
      this.scenes.set(key, scene);
    }
    return scene;
  }

  private async layoutScene(graph: ViewGraph): Promise<Scene> {
    const measure = this.canvas.measure();
    const boxes = graph.nodes.map((n) => nodeBox(n, measure));
    const sizes = new Float64Array(2 * boxes.length);
    boxes.forEach((b, i) => { sizes[2 * i] = b.width; sizes[2 * i + 1] = b.height; });
    const edges = new Int32Array(2 * graph.edges.length);
    graph.edges.forEach((e, k) => { edges[2 * k] = e.from; edges[2 * k + 1] = e.to; });
    performance.mark('octet:layout-start');
    const layout: LayoutResult = await this.layoutClient.layout({ sizes, edges, direction: this.state.direction });
    performance.mark('octet:layout-end');
    return new Scene(graph, boxes, layout);
  }

  async showScope(scope: string, options: { restore?: boolean; select?: number | null } = {}): Promise<void> {
    if (!this.graphs.has(scope)) return;
    const token = ++this.sceneToken;
    const leaving = this.state.scope !== scope;
    this.state.scope = scope;
    const busyTimer = window.setTimeout(() => { this.busy.hidden = false; }, 120);
    let scene: Scene;
    try {
      scene = await this.sceneFor(scope);
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
    if (!this.painted) this.reportFirstPaint(scene);
  }

  private initialView(scene: Scene) {
    const vp = this.canvas.viewport;
    const fit = vp.fitState(scene.bounds);
    return fit.scale >= READABLE_SCALE ? fit : vp.topState(scene.bounds, START_SCALE);
  }

  private reportFirstPaint(scene: Scene): void {
    this.painted = true;
    const stats = this.canvas.draw();
    // The frame is on screen once the browser has composited it: wait for the next animation frame.
    performance.mark('octet:drawn');
    requestAnimationFrame(() => {
      performance.mark('octet:painted');
      const openedAt = this.init?.openedAt ?? Date.now();
      this.metrics.firstPaintMs = Date.now() - openedAt;
      this.metrics.layoutMs = scene.layout.ms;
      this.metrics.algorithm = scene.layout.algorithm;
      this.host.post({ type: 'painted', firstPaintMs: this.metrics.firstPaintMs, layoutMs: scene.layout.ms, algorithm: scene.layout.algorithm, nodes: stats?.nodes ?? scene.graph.nodes.length, at: Date.now() });
    });
  }

  private setDirection(direction: Direction): void {
    this.state.direction = direction;
    this.toolbar.setDirection(direction);
    void this.showScope(this.scope, { restore: true });
  }

  private setFold(fold: boolean): void {
    this.state.fold = fold;
    this.persist();
    this.host.post({ type: 'setFold', fold });
  }

  // ---- overlay ----

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

  private changeOverlay(change: Partial<Pick<PersistedState, 'overlayOn' | 'overlayKind' | 'overlayMetric' | 'timeMetric'>>): void {
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
      if (n.kind === 'op') {
        this.details = 'loading';
        this.detailsRequest++;
        this.host.post({ type: 'details', requestId: this.detailsRequest, scope: graph.scope, node: valid, fold: this.state.fold });
      } else {
        this.details = null;
      }
      if (options.center) this.centerOn(valid, false);
    } else if (this.state.panel === 'node') {
      this.state.panel = 'none';
    }
    this.renderPanel();
    this.canvas.requestDraw();
    this.persist();
  }

  private renderPanel(): void {
    const graph = this.graph;
    const selected = this.canvas.options.selected;
    clear(this.panel);
    if (this.state.panel === 'model' && this.init) {
      this.panel.append(renderModelPanel(this.init.model, this.init.overlay));
    } else if (this.state.panel === 'node' && graph && selected !== null) {
      const node = graph.nodes[selected];
      const scope = this.scopes.get(graph.scope) ?? { id: graph.scope, title: graph.scope, kind: 'main' as const, path: [graph.scope] };
      this.panel.append(renderNodePanel(node, scope, this.details, { layer: this.overlay?.forNode(node), time: this.overlay?.timeForNode(node) }, {
        openScope: (id) => void this.showScope(id),
        followTensor: (tensor, direction) => this.followTensor(tensor, direction),
      }));
    }
    this.panel.hidden = this.panel.childElementCount === 0;
    // The canvas area changed width.
    requestAnimationFrame(() => this.canvas.resize());
  }

  private togglePanel(panel: 'model', force = false): void {
    this.state.panel = this.state.panel === panel && !force ? (this.canvas.options.selected !== null ? 'node' : 'none') : panel;
    this.renderPanel();
    this.persist();
  }

  private followTensor(tensor: string, direction: 'input' | 'output'): void {
    const graph = this.graph;
    const selected = this.canvas.options.selected;
    if (!graph) return;
    const target = direction === 'input'
      ? graph.nodes.find((n) => n.id !== selected && n.outputs.some((o) => o.name === tensor))?.id
        ?? graph.edges.find((e) => e.to === selected && e.tensor === tensor)?.from
      : graph.nodes.find((n) => n.id !== selected && n.inputs.some((i) => i.name === tensor))?.id
        ?? graph.edges.find((e) => e.from === selected && e.tensor === tensor)?.to;
    if (target !== undefined) this.select(target, { center: true });
  }

  private openSubgraph(node: number): void {
    const link = this.graph?.nodes[node]?.subgraphs[0];
    if (link) void this.showScope(link.scope);
  }

  private goToParent(): void {
    const parent = this.scopes.get(this.scope)?.parent ?? (this.scope !== 'main' ? 'main' : undefined);
    if (!parent) return;
    const owner = this.scopes.get(this.scope)?.owner;
    const ownerId = owner ? this.graphs.get(parent)?.nodes.find((n) => n.label === owner)?.id : undefined;
    void this.showScope(parent, ownerId !== undefined ? { select: ownerId } : {});
  }

  // ---- viewport ----

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
    this.hits = searchGraphs([...this.graphs.values()], query, this.scope);
    this.hitIndex = -1;
    this.applyHits();
    this.toolbar.setSearchCount(this.hitIndex, this.hits.length, query);
    this.persist();
  }

  stepSearch(delta: 1 | -1): void {
    if (!this.hits.length) return;
    this.hitIndex = (this.hitIndex + delta + this.hits.length) % this.hits.length;
    const hit = this.hits[this.hitIndex];
    this.toolbar.setSearchCount(this.hitIndex, this.hits.length, this.state.query);
    const go = hit.scope === this.scope ? Promise.resolve() : this.showScope(hit.scope, { select: hit.node });
    void go.then(() => {
      this.applyHits();
      this.select(hit.node, { center: true });
    });
  }

  private applyHits(): void {
    const inScope = this.hits.filter((hit) => hit.scope === this.scope).map((hit) => hit.node);
    this.canvas.options.hits = new Set(inScope);
    const current = this.hits[this.hitIndex];
    this.canvas.options.currentHit = current && current.scope === this.scope ? current.node : null;
    this.canvas.requestDraw();
  }

  // ---- reveal (from the report panel) ----

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

  // ---- export ----

  private exportImage(format: 'svg' | 'png'): void {
    const scene = this.canvas.scene;
    if (!scene || !this.init) return;
    const stem = this.init.model.fileName.replace(/\.onnx$/i, '');
    const suffix = this.scope === 'main' ? '' : `.${this.scope.replace(/[^\w.-]+/g, '_')}`;
    try {
      const data = format === 'svg' ? sceneToSvg(scene, this.canvas.theme, this.canvas.options.overlay) : sceneToPng(scene, this.canvas.theme, this.canvas.options.overlay);
      this.host.post({ type: 'export', format, data, suggestedName: `${stem}${suffix}.graph.${format}` });
    } catch (err) {
      this.setStatus(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  // ---- keyboard ----

  private keyTarget() {
    return {
      scene: () => this.canvas.scene,
      direction: () => this.state.direction,
      selected: () => this.canvas.options.selected,
      select: (node: number | null) => this.select(node, { center: true }),
      viewport: () => this.canvas.viewport,
      fit: () => this.fit(),
      zoomToSelection: () => this.zoomToSelection(),
      openSubgraph: (node: number) => this.openSubgraph(node),
      goToParent: () => this.goToParent(),
      focusSearch: () => { this.toolbar.searchInput.focus(); this.toolbar.searchInput.select(); },
      searchStep: (delta: 1 | -1) => this.stepSearch(delta),
      showModel: () => this.togglePanel('model'),
    };
  }
}
