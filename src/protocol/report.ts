// The messages between the report panel's host side (src/extension/report) and its webview (media/report), and
// the state the webview keeps across hide/show and window reloads. The one place both sides take their types and
// validators from: the page's messages and saved state are described once here, their types come from that.
import { REPORT_LIMITS, reportSchema } from '../common/report-schema';
import { boolean, Infer, literal, object, optional, string, variants } from '../common/schema';
import { TIME_SORT_KEYS } from '../report/profile-tables';
import type { WebviewProtocol } from './webview';

export const REPORT_VIEW_TYPE = 'octet.report';

const reportView = object({
  report: reportSchema,
  reportPath: string(),
  /** Absolute paths, resolved against the report's folder when the report holds relative ones. */
  fp32ModelPath: string(),
  int8ModelPath: string(),
});
/** Everything the webview needs to render one report. */
export type ReportView = Infer<typeof reportView>;

/** From the host (trusted): typed, not checked. */
export type HostToWebview =
  | { type: 'showReport'; view: ReportView }
  | { type: 'notice'; text: string };

const exportFormat = literal('json', 'markdown');
export type ExportFormat = Infer<typeof exportFormat>;

const webviewToHost = variants('type', {
  ready: {},
  revealNode: { node: string() },
  openGraph: {},
  revealInExplorer: {},
  rerun: {},
  export: { format: exportFormat },
});
export type WebviewToHost = Infer<typeof webviewToHost>;

const layerSortColumn = literal('index', 'node', 'opType', 'sqnrDb', 'ownSqnrDb', 'localSqnrDb', 'weightSqnrDb', 'cosine', 'maxAbsError', 'clippedRatio');
export type LayerSortColumn = Infer<typeof layerSortColumn>;

const timeSortColumn = literal(...TIME_SORT_KEYS);
export type TimeSortColumn = Infer<typeof timeSortColumn>;

/** Saved with the webview's setState; comes back to the serializer after a reload. */
const reportPanelState = object({
  view: reportView,
  /** The per-layer error table's sort. */
  sort: object({ column: layerSortColumn, descending: boolean() }),
  /** The "where the time goes" table's sort (absent in state saved before it existed). */
  timeSort: optional(object({ column: timeSortColumn, descending: boolean() })),
});
export type ReportPanelState = Infer<typeof reportPanelState>;

export const reportProtocol: WebviewProtocol<WebviewToHost, HostToWebview, ReportPanelState> = {
  name: 'report panel',
  toHost: webviewToHost,
  state: reportPanelState,
  // The saved state holds a whole report, two levels down.
  limits: { ...REPORT_LIMITS, maxDepth: REPORT_LIMITS.maxDepth + 2 },
};
