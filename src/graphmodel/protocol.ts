// Messages between the extension host and the graph webview. Shared by both sides (types only).
import type { ErrorOverlay } from './errorOverlay';
import type { TensorStats } from './tensorStats';
import type { Dim, ModelSummary, ScopeInfo } from './types';
import type { WireGraph } from './wire';

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

export interface InitMessage {
  type: 'init';
  model: ModelSummary;
  scopes: ScopeInfo[];
  /** One per scope, packed (see wire.ts). */
  graphs: WireGraph[];
  fold: boolean;
  overlay: ErrorOverlay | null;
  /** Host timestamp (ms since epoch) when the editor started opening the file, for first-paint figures. */
  openedAt: number;
}

export type HostToWebview =
  | InitMessage
  | { type: 'error'; title: string; message: string }
  | { type: 'details'; requestId: number; details: NodeDetails | null; error?: string }
  | { type: 'overlay'; overlay: ErrorOverlay | null }
  | { type: 'reveal'; node: string; scope?: string }
  | { type: 'exported'; path: string };

export type WebviewToHost =
  /** `pageAgeMs`: how long ago this page started loading (VS Code re-creates hidden webviews). */
  | { type: 'ready'; pageAgeMs?: number }
  | { type: 'details'; requestId: number; scope: string; node: number; fold: boolean }
  | { type: 'setFold'; fold: boolean }
  | { type: 'export'; format: 'svg' | 'png'; data: string; suggestedName: string }
  | { type: 'painted'; firstPaintMs: number; layoutMs: number; algorithm: string; nodes: number; at: number }
  | { type: 'revealed'; node: string; found: boolean };

export const QUANT_VALUES_SHOWN = 16;
