// The graph page's connection to its host: the shared webview wrapper (media/common/vscode-api.ts) bound to the
// graph protocol, with the defaults a fresh page starts from (and that fill fields an older page's state lacks).
import { connectHost as connectWebviewHost, WebviewHost } from '../../common/vscode-api';
import { graphProtocol, HostToWebview, PersistedState, WebviewToHost } from '../../../src/protocol/graph';

export type { PersistedState };
export type HostApi = WebviewHost<WebviewToHost, HostToWebview, PersistedState>;

export function connectHost(): HostApi {
  return connectWebviewHost(graphProtocol, defaultState());
}

export function defaultState(): PersistedState {
  return { scope: 'main', viewports: {}, direction: 'TB', fold: true, overlayOn: true, overlayKind: 'error', overlayMetric: 'accumulated', timeMetric: 'int8Ms', panel: 'none', query: '' };
}
