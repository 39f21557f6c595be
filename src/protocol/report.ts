// The messages between the report panel's host side (src/extension/report) and its webview (media/report), and
// the state the webview keeps across hide/show and window reloads. The one place both sides take their types from.
import type { Report } from '../common/report';

export const REPORT_VIEW_TYPE = 'octet.report';

/** Everything the webview needs to render one report. */
export interface ReportView {
  report: Report;
  reportPath: string;
  /** Absolute paths, resolved against the report's folder when the report holds relative ones. */
  fp32ModelPath: string;
  int8ModelPath: string;
}

export type HostToWebview =
  | { type: 'showReport'; view: ReportView }
  | { type: 'notice'; text: string };

export type ExportFormat = 'json' | 'markdown';

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'revealNode'; node: string }
  | { type: 'openGraph' }
  | { type: 'revealInExplorer' }
  | { type: 'rerun' }
  | { type: 'export'; format: ExportFormat };

export type LayerSortColumn = 'index' | 'node' | 'opType' | 'sqnrDb' | 'ownSqnrDb' | 'localSqnrDb' | 'weightSqnrDb' | 'cosine' | 'maxAbsError' | 'clippedRatio';

/** Saved with the webview's setState; comes back to the serializer after a reload. */
export interface ReportPanelState {
  view: ReportView;
  sort: { column: LayerSortColumn; descending: boolean };
}

const WEBVIEW_MESSAGE_TYPES = ['ready', 'revealNode', 'openGraph', 'revealInExplorer', 'rerun', 'export'];

/** Checks a message from the webview before the host acts on it. */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (typeof message.type !== 'string' || !WEBVIEW_MESSAGE_TYPES.includes(message.type)) return false;
  if (message.type === 'revealNode') return typeof message.node === 'string';
  if (message.type === 'export') return message.format === 'json' || message.format === 'markdown';
  return true;
}

export function isReportPanelState(value: unknown): value is ReportPanelState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<ReportPanelState>;
  return typeof state.view?.reportPath === 'string' && typeof state.view.report === 'object';
}
