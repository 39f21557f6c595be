// The state one opset conversion shares between its adapters: the source opset, the facts known about each tensor,
// constant values (initializers and Constant nodes), a pool of names used anywhere in the model so new tensors and
// nodes get unique names, the initializers adapters add, the tally of changes, and the one way to refuse a node.
import { OctetError } from '../../common/errors';
import { AttributeProto, DataType, NodeProto, TensorProto } from '../proto';
import { makeTensor, NumericArray } from '../tensor';
import { Facts, ValueFacts } from './facts';

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Every name used in the model (tensors, nodes, in every subgraph); hands out fresh ones. */
export class NamePool {
  private readonly used = new Set<string>();

  add(name: string | undefined): void {
    if (name) this.used.add(name);
  }

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

export class Rewriter {
  /** Initializers created while converting the current graph. */
  readonly added: TensorProto[] = [];

  constructor(
    /** Opset the model declared before conversion. */
    readonly from: number,
    /** File name used in errors. */
    readonly label: string,
    private readonly names: NamePool,
    private readonly facts: Facts,
    readonly constants: ReadonlyMap<string, TensorProto>,
    /** Change description -> count, shared across subgraphs. */
    readonly changes: Map<string, number>,
  ) {}

  /** A child for a subgraph: same names and tally, its own facts, constants and added initializers. */
  child(facts: Facts, constants: ReadonlyMap<string, TensorProto>): Rewriter {
    return new Rewriter(this.from, this.label, this.names, facts, constants, this.changes);
  }

  note(change: string): void {
    this.changes.set(change, (this.changes.get(change) ?? 0) + 1);
  }

  unique(base: string): string {
    return this.names.unique(base);
  }

  factsOf(tensor: string): ValueFacts {
    return this.facts.get(tensor) ?? {};
  }

  /** The value of `tensor` when it is an initializer or a Constant node's output. */
  constant(tensor: string): TensorProto | undefined {
    return tensor ? this.constants.get(tensor) : undefined;
  }

  private add(base: string, dims: readonly number[], values: NumericArray): string {
    const name = this.unique(base);
    this.added.push(makeTensor(name, dims, values));
    return name;
  }

  /** A new int64 initializer (values clamped to the int64 range, as ONNX means INT64_MAX by "to the end"). */
  int64s(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const clamped = values.map((v) => {
      if (!Number.isFinite(v)) return v > 0 ? INT64_MAX : INT64_MIN;
      const b = BigInt(Math.trunc(v));
      return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
    });
    return this.add(base, dims, BigInt64Array.from(clamped));
  }

  floats(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.add(base, dims, Float32Array.from(values));
  }

  /**
   * A scalar initializer of the element type `tensor` has. When that type is unknown (after an op of another domain),
   * float: the old versions this serves (Clip-6, Pad-2, BatchNormalization-7) run on float only in ONNX Runtime.
   */
  scalarLike(base: string, tensor: string, value: number, node: NodeProto, what: string): string {
    const type = this.factsOf(tensor).elemType ?? DataType.FLOAT;
    if (type === DataType.FLOAT) return this.add(base, [], Float32Array.of(value));
    if (type === DataType.DOUBLE) return this.add(base, [], Float64Array.of(value));
    return this.fail(node, `its ${what} would become an input of the element type of '${tensor}', `
      + `${DataType[type]?.toLowerCase() ?? `type ${type}`}, which this op does not accept`);
  }

  /** Refuses a node: exit 1 naming the node, the op, the source opset and what to do. */
  fail(node: NodeProto, reason: string): never {
    const name = node.name || node.output[0] || '?';
    throw new OctetError(this.label, `node '${name}' (${node.op_type}, opset ${this.from}) cannot be moved to opset 13 exactly: ${reason}. `
      + 'Re-export the model at opset 13 or newer (for PyTorch: torch.onnx.export(..., opset_version=13); '
      + 'for paddle2onnx: --opset_version 13), then quantize that file.');
  }
}

/** `node` with the named attributes removed. */
export function withoutAttributes(node: NodeProto, names: readonly string[]): NodeProto {
  return { ...node, attribute: node.attribute.filter((a) => !names.includes(a.name ?? '')) };
}

/** `node` as another op / with other inputs and extra attributes, keeping name, outputs and the rest. */
export function rebuilt(node: NodeProto, changes: { op?: string; inputs?: string[]; drop?: readonly string[]; add?: AttributeProto[] }): NodeProto {
  const kept = node.attribute.filter((a) => !(changes.drop ?? []).includes(a.name ?? ''));
  return { ...node, op_type: changes.op ?? node.op_type, input: changes.inputs ?? [...node.input], attribute: [...kept, ...(changes.add ?? [])] };
}

/** Rewrites one node of the source opset into nodes valid at opset 13, or returns null when it already is. */
export type Adapter = (node: NodeProto, rw: Rewriter) => NodeProto[] | null;

/** The value of an attribute that is present (protobuf leaves zero values out), or undefined when absent. */
export function presentFloat(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.f ?? 0 : undefined;
}

export function presentInt(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.i ?? 0 : undefined;
}

/** Base for the names of tensors and nodes an adapter adds next to `node`. */
export function baseName(node: NodeProto): string {
  return node.name || node.output[0] || (node.op_type ?? 'node');
}
