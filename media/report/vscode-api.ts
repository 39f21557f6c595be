// The webview side of the host connection: typed postMessage and state, from the shared protocol file.
import type { HostToWebview, ReportPanelState, WebviewToHost } from '../../src/protocol/report';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: ReportPanelState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi may be called once per page. */
export const vscodeApi: VsCodeApi = acquireVsCodeApi();

export function onHostMessage(handler: (message: HostToWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
    const message = event.data;
    if (typeof message === 'object' && message !== null && typeof message.type === 'string') handler(message);
  });
}
