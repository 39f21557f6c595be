// The view model on the wire: default fields left out and edge types dropped (the webview takes them from the
// producing node), which makes a 10,000-node graph's init message about a quarter smaller.
import { TensorRef, ViewEdge, ViewGraph, ViewNode } from './types';

export type WireNode = Omit<ViewNode, 'domain' | 'int8' | 'folded' | 'subgraphs' | 'attributes' | 'label' | 'kind'>
  & Partial<Pick<ViewNode, 'domain' | 'int8' | 'folded' | 'subgraphs' | 'attributes' | 'label' | 'kind'>>;
export type WireEdge = Omit<ViewEdge, 'dtype' | 'shape'> & Partial<Pick<ViewEdge, 'dtype' | 'shape'>>;
export interface WireGraph extends Omit<ViewGraph, 'nodes' | 'edges'> { nodes: WireNode[]; edges: WireEdge[] }

export function packGraph(g: ViewGraph): WireGraph {
  const nodes = g.nodes.map((n): WireNode => {
    const { domain, int8, folded, subgraphs, attributes, label, kind, ...rest } = n;
    const out: WireNode = rest;
    if (kind !== 'op') out.kind = kind;
    if (label !== n.name) out.label = label;
    if (domain) out.domain = domain;
    if (int8) out.int8 = true;
    if (folded.length) out.folded = folded;
    if (subgraphs.length) out.subgraphs = subgraphs;
    if (attributes.length) out.attributes = attributes;
    return out;
  });
  const typed = tensorTypes(g.nodes);
  const edges = g.edges.map((e): WireEdge => {
    const known = typed.get(e.tensor);
    const sameType = known && known.dtype === e.dtype && JSON.stringify(known.shape) === JSON.stringify(e.shape);
    if (sameType) {
      const { dtype: _dtype, shape: _shape, ...rest } = e;
      return rest;
    }
    return e;
  });
  return { ...g, nodes, edges };
}

export function unpackGraph(w: WireGraph): ViewGraph {
  const nodes = w.nodes.map((n): ViewNode => ({
    ...n, kind: n.kind ?? 'op', label: n.label ?? n.name, domain: n.domain ?? '', int8: n.int8 ?? false,
    folded: n.folded ?? [], subgraphs: n.subgraphs ?? [], attributes: n.attributes ?? [],
  }));
  const typed = tensorTypes(nodes);
  const edges = w.edges.map((e): ViewEdge => {
    if (e.dtype !== undefined || e.shape !== undefined) return e as ViewEdge;
    const known = typed.get(e.tensor);
    const edge: ViewEdge = { ...e };
    if (known?.dtype) edge.dtype = known.dtype;
    if (known?.shape) edge.shape = known.shape;
    return edge;
  });
  return { ...w, nodes, edges };
}

/** Type of each tensor as its producer (or the graph input) declares it. */
function tensorTypes(nodes: readonly Pick<ViewNode, 'outputs'>[]): Map<string, Pick<TensorRef, 'dtype' | 'shape'>> {
  const out = new Map<string, Pick<TensorRef, 'dtype' | 'shape'>>();
  for (const n of nodes) for (const o of n.outputs) if (o.name && !out.has(o.name)) out.set(o.name, { dtype: o.dtype, shape: o.shape });
  return out;
}
