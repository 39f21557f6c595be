// TensorProto <-> typed arrays. Reads every storage form ONNX allows (raw_data little-endian, typed fields);
// writes raw_data, which is what every modern exporter and ONNX Runtime produce.
import { InternalError, OctetError } from '../common/errors';
import { DATA_LOCATION, DataType, TensorProto } from './proto';

export type NumericArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array
  | Uint32Array | BigInt64Array | BigUint64Array;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function dataTypeName(dataType: number | undefined): string {
  return DataType[dataType ?? 0]?.toLowerCase() ?? `type${dataType}`;
}

export function bytesPerElement(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: return 8;
    case DataType.INT16: case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return 2;
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: return 1;
    default: return 0;
  }
}

/** A copy of `raw` placed at an aligned offset so typed-array views are legal. */
function aligned(raw: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy.buffer;
}

/** The value of a float16 bit pattern (IEEE 754 binary16; NaN and ±Infinity included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}

/** The tensor's values as a typed array of its own element type (float16/bfloat16 widen to float32). */
export function tensorToArray(t: TensorProto): NumericArray {
  const dataType = t.data_type ?? DataType.UNDEFINED;
  const count = elementCount(t.dims);
  const raw = t.raw_data && t.raw_data.byteLength > 0 ? t.raw_data : undefined;
  if (t.data_location === DATA_LOCATION.EXTERNAL) throw new InternalError(`tensor '${t.name}' still references external data; load it first`);
  switch (dataType) {
    case DataType.FLOAT: return raw ? new Float32Array(aligned(raw)) : Float32Array.from(t.float_data);
    case DataType.DOUBLE: return raw ? new Float64Array(aligned(raw)) : Float64Array.from(t.double_data);
    case DataType.INT8: return raw ? new Int8Array(aligned(raw)) : Int8Array.from(t.int32_data);
    case DataType.UINT8: case DataType.BOOL: return raw ? new Uint8Array(aligned(raw)) : Uint8Array.from(t.int32_data);
    case DataType.INT16: return raw ? new Int16Array(aligned(raw)) : Int16Array.from(t.int32_data);
    case DataType.UINT16: return raw ? new Uint16Array(aligned(raw)) : Uint16Array.from(t.int32_data);
    case DataType.INT32: return raw ? new Int32Array(aligned(raw)) : Int32Array.from(t.int32_data);
    case DataType.UINT32: return raw ? new Uint32Array(aligned(raw)) : Uint32Array.from(t.uint64_data);
    case DataType.INT64: return raw ? new BigInt64Array(aligned(raw)) : BigInt64Array.from(t.int64_data.map((v) => BigInt(v)));
    case DataType.UINT64: return raw ? new BigUint64Array(aligned(raw)) : BigUint64Array.from(t.uint64_data.map((v) => BigInt(v)));
    case DataType.FLOAT16: case DataType.BFLOAT16: {
      const halves = raw ? new Uint16Array(aligned(raw)) : Uint16Array.from(t.int32_data);
      const out = new Float32Array(halves.length);
      if (dataType === DataType.FLOAT16) for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
      else {
        const view = new Uint32Array(out.buffer);
        for (let i = 0; i < halves.length; i++) view[i] = halves[i] << 16;
      }
      if (out.length !== count && count !== 0) throw new OctetError(`tensor '${t.name}'`, `holds ${out.length} values for its shape [${t.dims}]`);
      return out;
    }
    default:
      throw new OctetError(`tensor '${t.name}'`, `has data type ${dataTypeName(dataType)}, which Octet cannot read`);
  }
}

/** Any numeric tensor as float32 (int64 narrowed through Number). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const values = tensorToArray(t);
  if (values instanceof Float32Array) return values;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  return out;
}

/** Integer-valued tensor (int64 shapes, axes) as plain numbers. */
export function tensorToNumbers(t: TensorProto): number[] {
  const values = tensorToArray(t);
  const out: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  return out;
}

const arrayDataType = new Map<Function, DataType>([
  [Float32Array, DataType.FLOAT], [Float64Array, DataType.DOUBLE], [Int8Array, DataType.INT8],
  [Uint8Array, DataType.UINT8], [Int16Array, DataType.INT16], [Uint16Array, DataType.UINT16],
  [Int32Array, DataType.INT32], [Uint32Array, DataType.UINT32], [BigInt64Array, DataType.INT64],
  [BigUint64Array, DataType.UINT64],
]);

/** A new initializer holding `values` as raw_data. */
export function makeTensor(name: string, dims: readonly number[], values: NumericArray): TensorProto {
  const dataType = arrayDataType.get(values.constructor);
  if (dataType === undefined) throw new InternalError(`cannot store ${values.constructor.name} in a tensor`);
  if (elementCount(dims) !== values.length) throw new InternalError(`tensor '${name}': ${values.length} values for shape [${dims}]`);
  return {
    name, dims: [...dims], data_type: dataType,
    raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(),
    float_data: [], int32_data: [], int64_data: [], double_data: [], uint64_data: [], string_data: [], external_data: [],
  };
}

export function tensorByteSize(t: TensorProto): number {
  if (t.raw_data && t.raw_data.byteLength > 0) return t.raw_data.byteLength;
  const lengthEntry = t.external_data.find((e) => e.key === 'length');
  if (lengthEntry?.value) return Number(lengthEntry.value);
  return elementCount(t.dims) * bytesPerElement(t.data_type ?? 0);
}
