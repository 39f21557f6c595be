// The ONNX protobuf schema, parsed once with protobufjs, and the plain-object shapes Octet works with.
// Messages are decoded with `keepCase` (field names as in onnx.proto), int64 as JS numbers, repeated fields as arrays.
// Fields Octet never reads stay on the objects untouched, so decode -> encode is byte-identical.
import * as protobuf from 'protobufjs';
import onnxProtoText from './onnx.proto';

export enum DataType {
  UNDEFINED = 0, FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9,
  FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, COMPLEX64 = 14, COMPLEX128 = 15, BFLOAT16 = 16,
}

export enum AttributeType {
  UNDEFINED = 0, FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7, STRINGS = 8,
  TENSORS = 9, GRAPHS = 10, SPARSE_TENSOR = 11, SPARSE_TENSORS = 12, TYPE_PROTO = 13, TYPE_PROTOS = 14,
}

export interface StringStringEntry { key?: string; value?: string }

export interface TensorProto {
  name?: string;
  dims: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data: number[];
  int32_data: number[];
  int64_data: number[];
  double_data: number[];
  uint64_data: number[];
  string_data: Uint8Array[];
  external_data: StringStringEntry[];
  data_location?: number;
  doc_string?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeProto[];
  doc_string?: string;
}

export interface Dimension { dim_value?: number; dim_param?: string; denotation?: string }

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim: Dimension[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  denotation?: string;
}

export interface ValueInfoProto { name?: string; type?: TypeProto; doc_string?: string }

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparse_initializer: unknown[];
  doc_string?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
  quantization_annotation: unknown[];
}

export interface OperatorSetId { domain?: string; version?: number }

export interface FunctionProto {
  name?: string;
  domain?: string;
  input: string[];
  output: string[];
  node: NodeProto[];
  opset_import: OperatorSetId[];
}

export interface ModelProto {
  ir_version?: number;
  opset_import: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: StringStringEntry[];
  training_info: unknown[];
  functions: FunctionProto[];
}

let parsedRoot: protobuf.Root | undefined;
let modelType: protobuf.Type | undefined;
let graphType: protobuf.Type | undefined;
let tensorType: protobuf.Type | undefined;

function root(): protobuf.Root {
  parsedRoot ??= protobuf.parse(onnxProtoText, { keepCase: true }).root;
  return parsedRoot;
}

function types(): { model: protobuf.Type; graph: protobuf.Type; tensor: protobuf.Type } {
  if (!modelType || !graphType || !tensorType) {
    const r = root();
    modelType = r.lookupType('onnx.ModelProto');
    graphType = r.lookupType('onnx.GraphProto');
    tensorType = r.lookupType('onnx.TensorProto');
  }
  return { model: modelType, graph: graphType, tensor: tensorType };
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, arrays: true, defaults: false };

/** Decodes ONNX ModelProto bytes. Throws protobufjs' error on malformed input (callers add the file name). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const { model } = types();
  return model.toObject(model.decode(bytes), toObjectOptions) as ModelProto;
}

/** Initializers with at least this many raw bytes are copied into the encoding directly. */
const SPLICED_RAW_BYTES = 4096;

/**
 * The model's bytes, equal to protobufjs' encoding of it. protobufjs writes every bytes field through its writer's
 * chunk list and copies it again when it finishes (ResNet-50's 100 MB of weights: ~200 ms per encoding, and a run
 * encodes the reference six times); here the top-level initializers' raw_data go straight into one buffer, between
 * the protobufjs encodings of everything else. protobufjs writes fields in field-number order, so the model is its
 * fields before `graph`, the graph field, the fields after; the graph its fields before `initializer`, each
 * initializer field, the fields after; an initializer its fields before `raw_data`, raw_data, the fields after.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const t = types();
  if (!model.graph || !model.graph.initializer.some((i) => (i.raw_data?.length ?? 0) >= SPLICED_RAW_BYTES)) return encodeWhole(t.model, model);
  const { initializer, ...rest } = model.graph;
  const graphParts = [encodePart(t.graph, rest, 'initializer', 'before')];
  for (const tensor of initializer) graphParts.push(...fieldOf(t.graph, 'initializer', tensorParts(t.tensor, tensor)));
  graphParts.push(encodePart(t.graph, rest, 'initializer', 'after'));
  const { graph: _graph, ...modelRest } = model;
  return concatBytes([encodePart(t.model, modelRest, 'graph', 'before'), ...fieldOf(t.model, 'graph', graphParts),
    encodePart(t.model, modelRest, 'graph', 'after')]);
}

/** TensorProto.DataLocation: the tensor's bytes are in the proto (DEFAULT) or in a file it names (EXTERNAL). */
export const DATA_LOCATION = { DEFAULT: 0, EXTERNAL: 1 } as const;

/**
 * A model as ONNX Runtime opens it without one buffer of all its bytes: its encoding with each large initializer's
 * raw_data left out, and those bytes as in-memory external-data files the encoding names (ORT copies them while the
 * session opens). Each probe of ResNet-50's graph was a fresh 100 MB buffer (~70 ms and 100 MB more memory each).
 */
export interface SplitModel {
  graph: Uint8Array;
  external: { path: string; data: Uint8Array }[];
}

/** `model` as a SplitModel: the top-level initializers of at least SPLICED_RAW_BYTES raw bytes go apart, unread. */
export function encodeSplit(model: ModelProto): SplitModel {
  const external: SplitModel['external'] = [];
  if (!model.graph) return { graph: encodeModel(model), external };
  const initializer = model.graph.initializer.map((tensor): TensorProto => {
    const raw = tensor.raw_data;
    if (!raw || raw.length < SPLICED_RAW_BYTES) return tensor;
    const path = `octet-initializer-${external.length}`;
    external.push({ path, data: raw });
    const { raw_data: _raw, ...rest } = tensor;
    return { ...rest, data_location: DATA_LOCATION.EXTERNAL, external_data: [{ key: 'location', value: path }, { key: 'offset', value: '0' }, { key: 'length', value: String(raw.length) }] };
  });
  return { graph: encodeWhole(types().model, { ...model, graph: { ...model.graph, initializer } }), external };
}

function encodeWhole(type: protobuf.Type, value: object): Uint8Array {
  return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
}

/** protobufjs' encoding of the fields of `value` numbered below (or above) field `name`. */
function encodePart(type: protobuf.Type, value: object, name: string, side: 'before' | 'after'): Uint8Array {
  const split = type.fields[name].id;
  const part: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    if (field && (side === 'before' ? field.id < split : field.id > split)) part[key] = v;
  }
  return encodeWhole(type, part);
}

function tensorParts(type: protobuf.Type, tensor: TensorProto): Uint8Array[] {
  const raw = tensor.raw_data;
  if (!raw || raw.length < SPLICED_RAW_BYTES) return [encodeWhole(type, tensor)];
  return [encodePart(type, tensor, 'raw_data', 'before'), ...fieldOf(type, 'raw_data', [raw]), encodePart(type, tensor, 'raw_data', 'after')];
}

/** A length-delimited field `name` of `type` holding `parts`: its key, its length, the parts. */
function fieldOf(type: protobuf.Type, name: string, parts: Uint8Array[]): Uint8Array[] {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  return [encodeVarint(type.fields[name].id * 8 + 2), encodeVarint(length), ...parts];
}

/** A non-negative integer (below 2^53) as a protobuf varint. */
export function encodeVarint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Decodes a standalone TensorProto (ONNX test_data_set `input_N.pb` files). */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  const { tensor } = types();
  return tensor.toObject(tensor.decode(bytes), toObjectOptions) as TensorProto;
}

export function encodeTensor(t: TensorProto): Uint8Array {
  const { tensor } = types();
  return tensor.encode(tensor.fromObject(t as unknown as Record<string, unknown>)).finish();
}

/** The small messages a structure-only reader decodes on their own (src/onnx/skim.ts), by their onnx.proto name. */
export interface PartMessages {
  'onnx.ValueInfoProto': ValueInfoProto;
  'onnx.OperatorSetIdProto': OperatorSetId;
  'onnx.StringStringEntryProto': StringStringEntry;
}

/** Decodes one embedded message (the bytes of its field value). Throws protobufjs' error on malformed input. */
export function decodePart<K extends keyof PartMessages>(typeName: K, bytes: Uint8Array): PartMessages[K] {
  const type = root().lookupType(typeName);
  return type.toObject(type.decode(bytes), toObjectOptions) as PartMessages[K];
}
