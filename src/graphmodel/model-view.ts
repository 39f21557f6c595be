// The view model of one loaded ONNX file: summary, flattened scopes, view graphs (cached per folding option) and
// tensor lookup (across enclosing scopes) for on-demand node details. No vscode, no DOM.
import { ModelProto, NodeProto, TensorProto } from '../onnx/proto';
import type { LazyTensorData } from '../onnx/skim';
import { bytesPerElement, dataTypeName, elementCount, NumericArray, tensorByteSize, tensorToArray, tensorToNumbers } from '../onnx/tensor';
import { buildViewGraph, constantTensors, scopeTypes } from './build';
import { isDequantizeOp, isIntegerOp, isQuantizeOp } from './categories';
import { NodeDetails, QUANT_VALUES_SHOWN, QuantParamsDetails, TensorDetails } from './node-details';
import { flattenScopes, FlatScopes, MAIN_SCOPE } from './scopes';
import { TypeTable } from './shapes';
import { dequantize, tensorStats } from './tensor-stats';
import { Dim, ModelSummary, QuantAnnotation, ScopeInfo, ValueSummary, ViewGraph, ViewOptions } from './types';

export interface ModelFileInfo { fileName: string; fileBytes: number; hadExternalData: boolean }

export class ModelView {
  readonly flat: FlatScopes;
  private readonly graphCache = new Map<boolean, ViewGraph[]>();
  private readonly constantCache = new Map<string, Map<string, TensorProto>>();
  private readonly typeCache = new Map<string, TypeTable>();
  private readonly detailsCache = new Map<string, TensorDetails>();

  constructor(readonly model: ModelProto, readonly file: ModelFileInfo, private readonly lazyData?: LazyTensorData) {
    this.flat = flattenScopes(model);
  }

  get scopes(): ScopeInfo[] {
    return this.flat.scopes.map((s) => s.info);
  }

  graphs(options: ViewOptions): ViewGraph[] {
    let cached = this.graphCache.get(options.fold);
    if (!cached) {
      cached = this.flat.scopes.map((s) => buildViewGraph(s, this.flat.linksByNode, options,
        { constants: this.constants(s.info.id), types: this.types(s.info.id) }));
      this.graphCache.set(options.fold, cached);
    }
    return cached;
  }

  graph(scope: string, options: ViewOptions): ViewGraph | undefined {
    return this.graphs(options).find((g) => g.scope === scope);
  }

  summary(): ModelSummary {
    const m = this.model;
    const g = m.graph;
    const types = this.types(MAIN_SCOPE);
    const initializerNames = new Set((g?.initializer ?? []).map((t) => t.name));
    const value = (name: string, docString?: string): ValueSummary => {
      const t = types.get(name);
      const out: ValueSummary = { name };
      if (t?.elemType) out.dtype = dataTypeName(t.elemType);
      if (t?.shape) out.shape = t.shape as Dim[];
      if (docString) out.docString = docString;
      return out;
    };
    const histogram: Record<string, number> = {};
    let quantized = false;
    const count = (nodes: NodeProto[]) => {
      for (const n of nodes) {
        const op = n.op_type ?? '';
        histogram[op] = (histogram[op] ?? 0) + 1;
        if (isQuantizeOp(op) || isDequantizeOp(op) || isIntegerOp(op)) quantized = true;
      }
    };
    for (const s of this.flat.scopes) count(s.nodes);
    return {
      fileName: this.file.fileName,
      fileBytes: this.file.fileBytes,
      irVersion: m.ir_version ?? 0,
      opsets: m.opset_import.map((o) => ({ domain: o.domain || 'ai.onnx', version: o.version ?? 0 })),
      producer: m.producer_name ?? '',
      producerVersion: m.producer_version ?? '',
      domain: m.domain ?? '',
      modelVersion: m.model_version ?? 0,
      docString: m.doc_string ?? '',
      metadata: m.metadata_props.map((p) => ({ key: p.key ?? '', value: p.value ?? '' })),
      inputs: (g?.input ?? []).filter((v) => v.name && !initializerNames.has(v.name)).map((v) => value(v.name as string, v.doc_string)),
      outputs: (g?.output ?? []).filter((v) => v.name).map((v) => value(v.name as string, v.doc_string)),
      nodeCount: g?.node.length ?? 0,
      initializerCount: g?.initializer.length ?? 0,
      weightBytes: (g?.initializer ?? []).reduce((sum, t) => sum + tensorByteSize(t), 0),
      opHistogram: histogram,
      functions: m.functions.map((f) => `${f.domain ? `${f.domain}.` : ''}${f.name ?? ''}`),
      hadExternalData: this.file.hadExternalData,
      quantized,
    };
  }

  /** Element types and shapes (declared or inferred) of a scope's tensors. */
  private types(scope: string): TypeTable {
    let cached = this.typeCache.get(scope);
    if (!cached) {
      const source = this.flat.byId.get(scope);
      const parent = source?.info.parent;
      cached = source ? scopeTypes(source, this.constants(scope), parent ? this.types(parent) : undefined) : new TypeTable();
      this.typeCache.set(scope, cached);
    }
    return cached;
  }

  private constants(scope: string): Map<string, TensorProto> {
    let cached = this.constantCache.get(scope);
    if (!cached) {
      const source = this.flat.byId.get(scope);
      cached = source ? constantTensors(source) : new Map();
      this.constantCache.set(scope, cached);
    }
    return cached;
  }

  /** A constant visible from `scope`: its own, else an enclosing graph's (subgraphs may read outer initializers). */
  findTensor(scope: string, name: string): TensorProto | undefined {
    let current: string | undefined = scope;
    while (current) {
      const hit = this.constants(current).get(name);
      if (hit) {
        if (this.lazyData && (!hit.raw_data || hit.raw_data.byteLength === 0)) this.lazyData.load(hit);
        return hit;
      }
      current = this.flat.byId.get(current)?.info.parent;
    }
    return undefined;
  }

  private quantParams(scope: string, q: QuantAnnotation): QuantParamsDetails {
    const numbers = (name: string | undefined): number[] => {
      const t = name ? this.findTensor(scope, name) : undefined;
      if (!t) return [];
      try { return tensorToNumbers(t); } catch { return []; }
    };
    const scale = numbers(q.scaleTensor);
    const zeroPoint = q.zeroPointTensor ? numbers(q.zeroPointTensor) : scale.map(() => 0);
    const out: QuantParamsDetails = {
      storage: q.storage, scale: scale.slice(0, QUANT_VALUES_SHOWN), zeroPoint: zeroPoint.slice(0, QUANT_VALUES_SHOWN), count: scale.length,
    };
    if (q.axis !== undefined) out.axis = q.axis;
    return out;
  }

  private tensorDetails(scope: string, name: string, param: string | undefined, quant: QuantAnnotation | undefined): TensorDetails {
    const key = `${scope}\u0000${name}\u0000${quant?.storedTensor ?? ''}`;
    const cached = this.detailsCache.get(key);
    if (cached) return { ...cached, ...(param ? { param } : {}) };
    const storedName = quant?.storedTensor ?? name;
    const t = this.findTensor(scope, storedName);
    const details: TensorDetails = { name, dtype: 'unknown', shape: [], elements: 0, bytes: 0 };
    if (param) details.param = param;
    if (!t) {
      details.error = 'value not stored in this file (outer scope or computed)';
      return details;
    }
    details.shape = [...t.dims];
    details.elements = elementCount(t.dims);
    details.bytes = tensorByteSize(t);
    try {
      if (t.data_type === 8) {
        details.dtype = 'string';
        details.preview = [];
      } else {
        const raw = tensorToArray(t);
        if (quant?.storedTensor) {
          const params = this.quantParams(scope, quant);
          const scales = this.numbers(scope, quant.scaleTensor);
          const zps = quant.zeroPointTensor ? this.numbers(scope, quant.zeroPointTensor) : [0];
          const values = dequantize(raw, t.dims, scales, zps, quant.axis ?? 1);
          details.dtype = 'float32';
          details.stats = tensorStats(values);
          details.statsOf = 'dequantized';
          details.preview = Array.from(values.subarray(0, 8));
          details.stored = { name: storedName, dtype: dataTypeName(t.data_type), stats: tensorStats(asNumbers(raw)) };
          details.quant = params;
        } else {
          details.dtype = dataTypeName(t.data_type);
          const numbers = asNumbers(raw);
          details.stats = tensorStats(numbers);
          details.statsOf = 'values';
          details.preview = Array.from(numbers.slice(0, 8));
        }
      }
    } catch (err) {
      details.dtype = dataTypeName(t.data_type);
      details.bytes = details.bytes || details.elements * bytesPerElement(t.data_type ?? 0);
      details.error = err instanceof Error ? err.message : String(err);
    }
    this.detailsCache.set(key, details);
    return details;
  }

  private numbers(scope: string, name: string): number[] {
    const t = this.findTensor(scope, name);
    if (!t) return [];
    try { return tensorToNumbers(t); } catch { return []; }
  }

  /** Side-panel details of one node: constant inputs with statistics, and the quantization of its activations. */
  nodeDetails(scope: string, nodeId: number, options: ViewOptions): NodeDetails | null {
    const start = performance.now();
    const node = this.graph(scope, options)?.nodes[nodeId];
    if (!node) return null;
    const tensors: TensorDetails[] = [];
    const activations: NodeDetails['activations'] = [];
    for (const ref of node.inputs) {
      if (!ref.name) continue;
      if (ref.constant) tensors.push(this.tensorDetails(scope, ref.name, ref.param, ref.quant));
      else if (ref.quant) activations.push({ tensor: ref.name, direction: 'input', quant: this.quantParams(scope, ref.quant) });
    }
    for (const ref of node.outputs) {
      if (ref.quant) activations.push({ tensor: ref.name, direction: 'output', quant: this.quantParams(scope, ref.quant) });
    }
    return { scope, node: nodeId, tensors, activations, ms: performance.now() - start };
  }
}


/** A typed array's values as numbers (int64 narrowed), without copying float/int arrays. */
function asNumbers(values: NumericArray): ArrayLike<number> & { slice(start: number, end: number): ArrayLike<number> } {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Float64Array.from(values, (v) => Number(v));
  return values;
}
