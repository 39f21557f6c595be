// Messages between the extension host and the graph webview, and the state the page keeps across hide/show and
// reloads. Shared by both sides: the page's messages and its saved state are described once here; their types
// come from the descriptions and the host checks every message with them (src/extension/graph).
export type { NodeDetails, QuantParamsDetails, TensorDetails } from '../graphmodel/node-details';
import type { ErrorMetric, ErrorOverlay } from '../graphmodel/error-overlay';
import type { TimeMetric } from '../graphmodel/time-profile';
import type { Direction } from '../graphmodel/layout/types';
import type { NodeDetails } from '../graphmodel/node-details';
import type { ModelSummary, ScopeInfo } from '../graphmodel/types';
import type { WireGraph } from '../graphmodel/wire';
import { boolean, Infer, integer, literal, number, object, optional, record, Schema, string, variants } from '../common/schema';
import type { WebviewProtocol } from './webview';

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

/** From the host (trusted): typed, not checked. */
export type HostToWebview =
  | InitMessage
  | { type: 'error'; title: string; message: string }
  | { type: 'details'; requestId: number; details: NodeDetails | null; error?: string }
  | { type: 'overlay'; overlay: ErrorOverlay | null }
  | { type: 'reveal'; node: string; scope?: string }
  | { type: 'exported'; path: string };

const webviewToHost = variants('type', {
  /** `pageAgeMs`: how long ago this page started loading (VS Code re-creates hidden webviews). */
  ready: { pageAgeMs: optional(number()) },
  details: { requestId: integer(), scope: string(), node: integer(), fold: boolean() },
  setFold: { fold: boolean() },
  /** `data`: SVG text, or a PNG data URL. */
  export: { format: literal('svg', 'png'), data: string(), suggestedName: string() },
  /** First paint (`firstPaintMs` -1 when the graph could not be shown). */
  painted: { firstPaintMs: number(), layoutMs: number(), algorithm: string(), nodes: integer(), at: number() },
  revealed: { node: string(), found: boolean() },
});
export type WebviewToHost = Infer<typeof webviewToHost>;

const direction: Schema<Direction> = literal('TB', 'LR');
const overlayMetric: Schema<ErrorMetric> = literal('accumulated', 'own');
const timeMetric: Schema<TimeMetric> = literal('int8Ms', 'gain');
const viewportState = object({ scale: number(), x: number(), y: number() });
export type ViewportState = Infer<typeof viewportState>;

/** What the page remembers across hide/show and reloads (vscode.setState). */
const persistedState = object({
  scope: string(),
  /** Label of the selected node in `scope`. */
  selected: optional(string()),
  viewports: record(viewportState),
  direction,
  fold: boolean(),
  overlayOn: boolean(),
  /** Which report view colours the nodes: per-layer error or time (the page falls back to the one the report has;
   * absent in state saved before the time view). */
  overlayKind: optional(literal('error', 'time')),
  /** Error view: colour by accumulated error or by the error each layer adds. */
  overlayMetric,
  /** Time view: colour by INT8 time or by the gain over FP32 (absent: INT8 time). */
  timeMetric: optional(timeMetric),
  panel: literal('node', 'model', 'none'),
  query: string(),
});
export type PersistedState = Infer<typeof persistedState>;

export const graphProtocol: WebviewProtocol<WebviewToHost, HostToWebview, PersistedState> = {
  name: 'graph viewer',
  toHost: webviewToHost,
  state: persistedState,
  // An exported PNG of a large graph is a big data URL; nothing the page sends nests deeper than 4.
  limits: { maxDepth: 8, maxSize: 512 * 1024 * 1024 },
};
