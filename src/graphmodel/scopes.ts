// Subgraph flattening: the main graph, every If/Loop/Scan body (at any depth) and every model-local function become
// one flat list of scopes, each addressable by id, with its breadcrumb path and the node that owns it.
import { AttributeType, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from '../onnx/proto';
import { ScopeInfo, SubgraphLink } from './types';

export interface ScopeValue { name: string; type?: TypeProto; docString?: string }

export interface ScopeSource {
  info: ScopeInfo;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ScopeValue[];
  outputs: ScopeValue[];
  valueInfo: ValueInfoProto[];
}

export interface FlatScopes {
  /** Main graph first, then bodies depth-first in file order, then functions. */
  scopes: ScopeSource[];
  byId: Map<string, ScopeSource>;
  /** Bodies (and called functions) each node opens. */
  linksByNode: Map<NodeProto, SubgraphLink[]>;
}

export const MAIN_SCOPE = 'main';

/** What a node is called in titles and scope ids: its name, else its first output, else op type and index. */
export function nodeLabel(node: NodeProto, index: number): string {
  return node.name || node.output.find((o) => o) || `${node.op_type ?? 'node'}_${index}`;
}

export function functionScopeId(domain: string | undefined, name: string | undefined): string {
  return `fn:${domain ?? ''}:${name ?? ''}`;
}

function values(list: ValueInfoProto[]): ScopeValue[] {
  return list.filter((v) => v.name).map((v) => ({ name: v.name as string, type: v.type, docString: v.doc_string }));
}

function bodiesOf(node: NodeProto): { attribute: string; graph: GraphProto }[] {
  const out: { attribute: string; graph: GraphProto }[] = [];
  for (const a of node.attribute) {
    const name = a.name ?? 'graph';
    if (a.g && (a.type === AttributeType.GRAPH || a.type === undefined || a.type === 0)) out.push({ attribute: name, graph: a.g });
    a.graphs.forEach((g, i) => out.push({ attribute: `${name}[${i}]`, graph: g }));
  }
  return out;
}

export function flattenScopes(model: ModelProto): FlatScopes {
  const scopes: ScopeSource[] = [];
  const byId = new Map<string, ScopeSource>();
  const linksByNode = new Map<NodeProto, SubgraphLink[]>();
  const functionIds = new Map<string, string>();
  for (const f of model.functions) functionIds.set(`${f.domain ?? ''}\u0000${f.name ?? ''}`, functionScopeId(f.domain, f.name));

  const uniqueId = (base: string): string => {
    let id = base;
    for (let i = 2; byId.has(id); i++) id = `${base}#${i}`;
    return id;
  };
  const add = (source: ScopeSource): void => {
    scopes.push(source);
    byId.set(source.info.id, source);
  };
  const addLink = (node: NodeProto, link: SubgraphLink): void => {
    const list = linksByNode.get(node);
    if (list) list.push(link); else linksByNode.set(node, [link]);
  };

  const visitNodes = (parent: ScopeSource): void => {
    parent.nodes.forEach((node, index) => {
      const fn = functionIds.get(`${node.domain ?? ''}\u0000${node.op_type ?? ''}`);
      if (fn) addLink(node, { attribute: 'function', scope: fn });
      for (const body of bodiesOf(node)) {
        const owner = nodeLabel(node, index);
        const id = uniqueId(`${parent.info.id}/${owner}.${body.attribute}`);
        const child: ScopeSource = {
          info: {
            id, title: `${owner}.${body.attribute}`, kind: 'subgraph', parent: parent.info.id, owner,
            path: [...parent.info.path, id],
          },
          nodes: body.graph.node, initializers: body.graph.initializer, inputs: values(body.graph.input),
          outputs: values(body.graph.output), valueInfo: body.graph.value_info,
        };
        addLink(node, { attribute: body.attribute, scope: id });
        add(child);
        visitNodes(child);
      }
    });
  };

  const graph = model.graph;
  const main: ScopeSource = {
    info: { id: MAIN_SCOPE, title: graph?.name || 'main graph', kind: 'main', path: [MAIN_SCOPE] },
    nodes: graph?.node ?? [], initializers: graph?.initializer ?? [], inputs: values(graph?.input ?? []),
    outputs: values(graph?.output ?? []), valueInfo: graph?.value_info ?? [],
  };
  add(main);
  visitNodes(main);
  for (const f of model.functions) {
    const id = functionScopeId(f.domain, f.name);
    if (byId.has(id)) continue;
    const source: ScopeSource = {
      info: { id, title: `function ${f.domain ? `${f.domain}.` : ''}${f.name ?? ''}`, kind: 'function', path: [MAIN_SCOPE, id] },
      nodes: f.node, initializers: [], inputs: f.input.map((name) => ({ name })), outputs: f.output.map((name) => ({ name })),
      valueInfo: [],
    };
    add(source);
    visitNodes(source);
  }
  return { scopes, byId, linksByNode };
}
