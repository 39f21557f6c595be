// What the graph viewer's side panel shows for one node: its constant tensors (statistics, never the weights in bulk)
// and the quantization of its activations. Computed on demand by ModelView in the extension host.
import type { TensorStats } from './tensor-stats';
import type { Dim } from './types';

/** Values of a scale/zero-point list sent to the webview at most. */
export const QUANT_VALUES_SHOWN = 16;

export interface QuantParamsDetails {
  storage: string;
  /** At most QUANT_VALUES_SHOWN values; `count` says how many there are. */
  scale: number[];
  zeroPoint: number[];
  count: number;
  axis?: number;
}

export interface TensorDetails {
  name: string;
  param?: string;
  dtype: string;
  shape: Dim[];
  elements: number;
  bytes: number;
  /** Statistics of the values a float op sees: dequantized for folded int8 weights. */
  stats?: TensorStats;
  statsOf?: 'values' | 'dequantized';
  /** The first few values. */
  preview?: number[];
  /** For folded weights: the integer tensor stored in the file and its quantization parameters. */
  stored?: { name: string; dtype: string; stats?: TensorStats };
  quant?: QuantParamsDetails;
  error?: string;
}

export interface NodeDetails {
  scope: string;
  node: number;
  /** Constant inputs (initializers, folded Constant/DequantizeLinear weights). */
  tensors: TensorDetails[];
  /** Quantization of non-constant inputs and outputs read from folded Q/DQ pairs. */
  activations: { tensor: string; direction: 'input' | 'output'; quant: QuantParamsDetails }[];
  ms: number;
}
