// Keyboard navigation on the canvas: arrows walk the graph (along edges, and across a rank), Enter opens a
// subgraph, Backspace goes back up, F fits, Z zooms to the selection, +/- zoom, Shift+arrows pan, / searches.
import type { Direction } from '../../../src/graphmodel/layout/types';
import { Scene } from '../view/scene';
import { Viewport } from '../view/viewport';

export interface KeyTarget {
  scene(): Scene | null;
  direction(): Direction;
  selected(): number | null;
  select(node: number | null): void;
  viewport(): Viewport;
  fit(): void;
  zoomToSelection(): void;
  openSubgraph(node: number): void;
  goToParent(): void;
  focusSearch(): void;
  searchStep(delta: 1 | -1): void;
  showModel(): void;
}

/** The neighbour along edges (forward = successor) closest to the current node across the rank axis. */
function alongEdges(scene: Scene, node: number, forward: boolean, direction: Direction): number | undefined {
  const edges = forward ? scene.outgoing[node] : scene.incoming[node];
  const across = direction === 'TB' ? scene.layout.x : scene.layout.y;
  let best: number | undefined;
  let bestDistance = Infinity;
  for (const k of edges) {
    const e = scene.graph.edges[k];
    const other = forward ? e.to : e.from;
    const d = Math.abs(across[other] - across[node]);
    if (d < bestDistance) { bestDistance = d; best = other; }
  }
  return best;
}

/** The nearest node beside this one (boxes overlapping it along the rank axis) on one side. */
function acrossRank(scene: Scene, node: number, positive: boolean, direction: Direction): number | undefined {
  const b = scene.nodeBounds;
  const along0 = direction === 'TB' ? 1 : 0;
  const lo = b[4 * node + along0];
  const hi = b[4 * node + along0 + 2];
  const across = direction === 'TB' ? scene.layout.x : scene.layout.y;
  let best: number | undefined;
  let bestDistance = Infinity;
  for (let i = 0; i < scene.graph.nodes.length; i++) {
    if (i === node || b[4 * i + along0 + 2] < lo || b[4 * i + along0] > hi) continue;
    const d = (across[i] - across[node]) * (positive ? 1 : -1);
    if (d > 0 && d < bestDistance) { bestDistance = d; best = i; }
  }
  return best;
}

function firstNode(scene: Scene): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < scene.graph.nodes.length; i++) {
    if (best === undefined || scene.layout.rank[i] < scene.layout.rank[best]) best = i;
  }
  return best;
}

export function handleKey(e: KeyboardEvent, t: KeyTarget): void {
  const scene = t.scene();
  if (!scene) return;
  const vp = t.viewport();
  const selected = t.selected();
  const dir = t.direction();
  const step = 80;
  let handled = true;
  if (e.shiftKey && e.key.startsWith('Arrow')) {
    const dx = e.key === 'ArrowLeft' ? step : e.key === 'ArrowRight' ? -step : 0;
    const dy = e.key === 'ArrowUp' ? step : e.key === 'ArrowDown' ? -step : 0;
    vp.panBy(dx, dy);
  } else if (e.key.startsWith('Arrow')) {
    if (selected === null) {
      const first = firstNode(scene);
      if (first !== undefined) t.select(first);
    } else {
      const forwardKey = dir === 'TB' ? 'ArrowDown' : 'ArrowRight';
      const backKey = dir === 'TB' ? 'ArrowUp' : 'ArrowLeft';
      let next: number | undefined;
      if (e.key === forwardKey) next = alongEdges(scene, selected, true, dir);
      else if (e.key === backKey) next = alongEdges(scene, selected, false, dir);
      else next = acrossRank(scene, selected, e.key === 'ArrowRight' || e.key === 'ArrowDown', dir);
      if (next !== undefined) t.select(next);
    }
  } else {
    switch (e.key) {
      case 'Enter': if (selected !== null) t.openSubgraph(selected); break;
      case 'Backspace': t.goToParent(); break;
      case 'Escape': t.select(null); break;
      case 'f': case 'F': t.fit(); break;
      case 'z': case 'Z': t.zoomToSelection(); break;
      case 'm': case 'M': t.showModel(); break;
      case '+': case '=': vp.zoomAt(1.25, vp.width / 2, vp.height / 2); break;
      case '-': case '_': vp.zoomAt(0.8, vp.width / 2, vp.height / 2); break;
      case '0': vp.animateTo(vp.centerState(...vp.toWorld(vp.width / 2, vp.height / 2), 1)); break;
      case '/': t.focusSearch(); break;
      case 'n': t.searchStep(1); break;
      case 'N': t.searchStep(-1); break;
      default: handled = false;
    }
  }
  if (handled) e.preventDefault();
}
