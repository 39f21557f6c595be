// Messages between the extension host and the graph webview. Shared by both sides (types only).
export type { NodeDetails, QuantParamsDetails, TensorDetails } from '../graphmodel/node-details';
import type { ErrorOverlay } from '../graphmodel/error-overlay';
import type { NodeDetails } from '../graphmodel/node-details';
import type { Dim, ModelSummary, ScopeInfo } from '../graphmodel/types';
import type { WireGraph } from '../graphmodel/wire';

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

