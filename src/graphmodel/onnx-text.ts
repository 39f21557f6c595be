// Small helpers that read ONNX protos without Node's Buffer, so the view model also runs in a browser or worker.
import { AttributeProto, AttributeType, TensorProto } from '../onnx/proto';
import { dataTypeName, elementCount, tensorToNumbers } from '../onnx/tensor';

const utf8 = new TextDecoder('utf-8');

export function decodeUtf8(bytes: Uint8Array | undefined): string {
  return bytes ? utf8.decode(bytes) : '';
}

export function attributeTypeName(type: number | undefined): string {
  return AttributeType[type ?? 0] ?? `type${type}`;
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const text = value.toPrecision(6);
  return text.includes('e') ? text : String(Number(text));
}

function formatList(values: readonly (number | string)[], limit = 16): string {
  const shown = values.slice(0, limit).map((v) => (typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)));
  return `[${shown.join(', ')}${values.length > limit ? `, … (${values.length})` : ''}]`;
}

/** "float32[64,3,7,7]" plus the values when there are only a few of them. */
export function describeTensor(t: TensorProto): string {
  const type = dataTypeName(t.data_type);
  const head = `${type}[${t.dims.join(',')}]`;
  const count = elementCount(t.dims);
  if (count > 8) return head;
  try {
    const values = tensorToNumbers(t);
    return `${head} ${formatList(values)}`;
  } catch {
    return head;
  }
}

/** The attribute's value in a form fit for a table cell. */
export function formatAttribute(a: AttributeProto): string {
  switch (a.type) {
    case AttributeType.FLOAT: return formatNumber(a.f ?? 0);
    case AttributeType.INT: return String(a.i ?? 0);
    case AttributeType.STRING: return JSON.stringify(decodeUtf8(a.s));
    case AttributeType.TENSOR: return a.t ? describeTensor(a.t) : 'tensor';
    case AttributeType.GRAPH: return `graph '${a.g?.name ?? ''}' (${a.g?.node.length ?? 0} nodes)`;
    case AttributeType.FLOATS: return formatList(a.floats);
    case AttributeType.INTS: return formatList(a.ints);
    case AttributeType.STRINGS: return formatList(a.strings.map((s) => decodeUtf8(s)));
    case AttributeType.TENSORS: return `${a.tensors.length} tensors`;
    case AttributeType.GRAPHS: return `${a.graphs.length} graphs`;
    default: {
      // Old exporters omit `type`: guess from the field that is set.
      if (a.ints.length) return formatList(a.ints);
      if (a.floats.length) return formatList(a.floats);
      if (a.i !== undefined) return String(a.i);
      if (a.f !== undefined) return formatNumber(a.f);
      if (a.s) return JSON.stringify(decodeUtf8(a.s));
      return '';
    }
  }
}

export { formatNumber };
