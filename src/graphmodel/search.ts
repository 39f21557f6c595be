// Search over every scope of the view model: node names, op types and tensor names, case-insensitive.
import { ViewGraph, ViewNode } from './types';

export type SearchField = 'name' | 'op' | 'tensor';

export interface SearchHit {
  scope: string;
  node: number;
  field: SearchField;
  /** The text that matched (node label, op type or tensor name). */
  text: string;
}

function matchNode(node: ViewNode, needle: string): { field: SearchField; text: string } | undefined {
  if (node.label.toLowerCase().includes(needle) || node.name.toLowerCase().includes(needle)) return { field: 'name', text: node.label };
  if (node.kind === 'op' && node.opType.toLowerCase().includes(needle)) return { field: 'op', text: node.opType };
  // Tensors a node owns: what it produces and its constants (an activation it reads is found at its producer).
  for (const ref of node.kind === 'output' ? node.inputs : [...node.outputs, ...node.inputs.filter((i) => i.constant)]) {
    if (ref.name && ref.name.toLowerCase().includes(needle)) return { field: 'tensor', text: ref.name };
  }
  return undefined;
}

/**
 * Hits in scope order (the `first` scope before the others), nodes in id order. An op type typed exactly
 * ("Conv") also matches; `limit` caps the list for huge graphs.
 */
export function searchGraphs(graphs: readonly ViewGraph[], query: string, first?: string, limit = 10_000): SearchHit[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [];
  const ordered = first ? [...graphs.filter((g) => g.scope === first), ...graphs.filter((g) => g.scope !== first)] : graphs;
  const hits: SearchHit[] = [];
  for (const graph of ordered) {
    for (const node of graph.nodes) {
      const match = matchNode(node, needle);
      if (!match) continue;
      hits.push({ scope: graph.scope, node: node.id, ...match });
      if (hits.length >= limit) return hits;
    }
  }
  return hits;
}

/**
 * The node a caller means by `name` (report panels pass node names; unnamed nodes are known by their first output
 * tensor): exact node name, then label, then an output tensor. Main graph first.
 */
export function findNodeByName(graphs: readonly ViewGraph[], name: string): { scope: string; node: number } | undefined {
  const tests: ((n: ViewNode) => boolean)[] = [
    (n) => n.kind === 'op' && n.name === name,
    (n) => n.label === name,
    (n) => n.kind === 'op' && n.outputs.some((o) => o.name === name),
    (n) => n.folded.includes(name),
  ];
  for (const test of tests) {
    for (const graph of graphs) {
      const node = graph.nodes.find(test);
      if (node) return { scope: graph.scope, node: node.id };
    }
  }
  return undefined;
}
