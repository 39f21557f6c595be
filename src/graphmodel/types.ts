// The graph view model: what the graph viewer draws and lists, built from an ONNX ModelProto by the host and sent
// to the webview as plain JSON. It holds structure, names, shapes and attribute summaries, never tensor data.

export type NodeCategory =
  | 'conv' | 'linear' | 'activation' | 'pool' | 'norm' | 'shape' | 'quantize' | 'math' | 'reduce'
  | 'constant' | 'control' | 'io' | 'other';

export type Dim = number | string;

/** Scale / zero point of a Q/DQ pair folded into the op that reads (or writes) a tensor. */
export interface QuantAnnotation {
  /** Initializer (or Constant output) holding the scale. */
  scaleTensor: string;
  zeroPointTensor?: string;
  /** Quantization axis for per-channel parameters. */
  axis?: number;
  /** Integer type the values travel as: 'int8', 'uint8', 'int32'... */
  storage: string;
  /** Scale and zero point when they are a single value (per-tensor); per-channel values come with node details. */
  scale?: number;
  zeroPoint?: number;
  /** For folded weights: the integer initializer behind the DequantizeLinear. */
  storedTensor?: string;
  /** Names (or output tensors when unnamed) of the QuantizeLinear/DequantizeLinear nodes folded away. */
  via: string[];
}

export interface TensorRef {
  /** Tensor name in the graph ('' for an omitted optional input). */
  name: string;
  /** Parameter name from the operator schema when known (X, W, B...). */
  param?: string;
  dtype?: string;
  shape?: Dim[];
  /** A constant: an initializer, or the output of a Constant node folded into its reader. */
  constant?: boolean;
  quant?: QuantAnnotation;
}

export interface AttributeSummary {
  name: string;
  /** ONNX attribute type name: INT, FLOATS, GRAPH... */
  type: string;
  /** Human-readable value, shortened for long lists and tensors. */
  value: string;
}

export interface SubgraphLink {
  /** Attribute holding the body (then_branch, body...), or 'function' for a model-local function call. */
  attribute: string;
  scope: string;
}

export type NodeKind = 'op' | 'input' | 'output';

export interface ViewNode {
  /** Index in ViewGraph.nodes. */
  id: number;
  kind: NodeKind;
  /** The NodeProto name ('' when the file gives none); for inputs/outputs, the tensor name. */
  name: string;
  /** What to call the node: its name, else its first output tensor, else op type and index. */
  label: string;
  opType: string;
  domain: string;
  category: NodeCategory;
  inputs: TensorRef[];
  outputs: TensorRef[];
  attributes: AttributeSummary[];
  /** Reads or writes quantized values (folded Q/DQ, or a QLinear or Integer op). */
  int8: boolean;
  /** Q/DQ and Constant nodes folded into this one. */
  folded: string[];
  subgraphs: SubgraphLink[];
  docString?: string;
}

export interface ViewEdge {
  from: number;
  to: number;
  tensor: string;
  dtype?: string;
  shape?: Dim[];
  /** The tensor travels quantized (through a folded Q/DQ pair). */
  quantized?: boolean;
}

export interface ViewGraph {
  /** Scope id: 'main', 'main/<node>.<attribute>', 'fn:<domain>:<name>'... */
  scope: string;
  title: string;
  nodes: ViewNode[];
  edges: ViewEdge[];
  /** Counts for the toolbar and the properties panel. */
  qdqNodes: number;
  int8Nodes: number;
}

export interface ScopeInfo {
  id: string;
  title: string;
  kind: 'main' | 'subgraph' | 'function';
  parent?: string;
  /** Label of the node that owns this body, in the parent scope. */
  owner?: string;
  /** Breadcrumb from the main graph down to this scope (scope ids, main first, this one last). */
  path: string[];
}

export interface ValueSummary { name: string; dtype?: string; shape?: Dim[]; docString?: string }

export interface ModelSummary {
  fileName: string;
  fileBytes: number;
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadata: { key: string; value: string }[];
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodeCount: number;
  initializerCount: number;
  weightBytes: number;
  opHistogram: Record<string, number>;
  functions: string[];
  hadExternalData: boolean;
  /** True when the file holds QuantizeLinear/DequantizeLinear or QLinear* ops. */
  quantized: boolean;
}

export interface ViewOptions {
  /** Fold Q/DQ pairs and Constant nodes into the ops that use them (default); false shows the raw graph. */
  fold: boolean;
}
