// Where graph navigation leads, as pure functions of the view model: the node at the other end of a tensor, the
// parent scope of a subgraph and its owner node, the file name an export of a scope gets.
import type { ScopeInfo, ViewGraph } from '../../../src/graphmodel/types';

/** The node that writes (input) or reads (output) `tensor` of the selected node, if it is in this scope. */
export function nodeAcross(graph: ViewGraph, selected: number | null, tensor: string, direction: 'input' | 'output'): number | undefined {
  return direction === 'input'
    ? graph.nodes.find((n) => n.id !== selected && n.outputs.some((o) => o.name === tensor))?.id
      ?? graph.edges.find((e) => e.to === selected && e.tensor === tensor)?.from
    : graph.nodes.find((n) => n.id !== selected && n.inputs.some((i) => i.name === tensor))?.id
      ?? graph.edges.find((e) => e.from === selected && e.tensor === tensor)?.to;
}

/** The scope above `scope` and the node there that owns it (to select on the way up). */
export function parentOf(scope: string, scopes: ReadonlyMap<string, ScopeInfo>, graphs: ReadonlyMap<string, ViewGraph>):
  { scope: string; owner?: number } | null {
  const parent = scopes.get(scope)?.parent ?? (scope !== 'main' ? 'main' : undefined);
  if (!parent) return null;
  const owner = scopes.get(scope)?.owner;
  const ownerId = owner ? graphs.get(parent)?.nodes.find((n) => n.label === owner)?.id : undefined;
  return ownerId !== undefined ? { scope: parent, owner: ownerId } : { scope: parent };
}

/** `model.graph.svg`, or `model.<scope>.graph.png` for a subgraph. */
export function exportName(modelFile: string, scope: string, format: 'svg' | 'png'): string {
  const stem = modelFile.replace(/\.onnx$/i, '');
  const suffix = scope === 'main' ? '' : `.${scope.replace(/[^\w.-]+/g, '_')}`;
  return `${stem}${suffix}.graph.${format}`;
}
