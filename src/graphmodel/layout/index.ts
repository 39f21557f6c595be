// Picks the layout algorithm: dagre while it is fast and safe, Octet's linear layered layout past that.
import { collapseChains } from './chains';
import { dagreLayout } from './dagre-layout';
import { layoutLayered } from './layered';
import { LayoutAlgorithm, LayoutInput, LayoutResult } from './types';

/**
 * dagre needs ~1.5 s per 1,000 nodes and overflows the stack on chains of ~2,000: past this many nodes after chain
 * collapsing (or 4x as many before), use 'layered'.
 */
export const DAGRE_MAX_NODES = 300;

export function chooseAlgorithm(input: LayoutInput, preferred?: LayoutAlgorithm): LayoutAlgorithm {
  if (preferred) return preferred;
  const nodes = input.sizes.length / 2;
  if (nodes > DAGRE_MAX_NODES * 4) return 'layered';
  const reduced = collapseChains(input).chains.length;
  return reduced <= DAGRE_MAX_NODES && input.edges.length / 2 <= DAGRE_MAX_NODES * 8 ? 'dagre' : 'layered';
}

/** Lays out the graph; falls back to the layered layout if dagre fails. */
export function layoutGraph(input: LayoutInput, preferred?: LayoutAlgorithm): LayoutResult {
  const algorithm = chooseAlgorithm(input, preferred);
  if (algorithm === 'dagre') {
    try {
      return dagreLayout(input);
    } catch {
      // Deep recursion or a degenerate graph: the layered layout handles every input.
    }
  }
  return layoutLayered(input);
}

export type { LayoutInput, LayoutResult, LayoutAlgorithm, Direction } from './types';
