// The one acquireVsCodeApi wrapper for Octet's webviews, typed by the page's protocol (src/protocol): messages to
// the host, messages from it, and saved state, which is checked against the protocol when it comes back (state
// an older page saved, or one damaged, is dropped with a console warning instead of breaking the page).
import { checkSavedState, WebviewProtocol } from '../../src/protocol/webview';

interface VsCodeApi { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export interface WebviewHost<ToHost, ToWebview, State> {
  post(message: ToHost): void;
  /** What an earlier page saved, if it fits the protocol's state schema. */
  getState(): State | undefined;
  setState(state: State): void;
  onMessage(handler: (message: ToWebview) => void): void;
}

let api: VsCodeApi | undefined;

/**
 * Connects this page to the host (acquireVsCodeApi may be called only once per page: later calls share it).
 * `stateDefaults` fill fields a saved state lacks (state saved by an older page) before it is checked.
 */
export function connectHost<ToHost, ToWebview, State>(protocol: WebviewProtocol<ToHost, ToWebview, State>,
  stateDefaults?: State): WebviewHost<ToHost, ToWebview, State> {
  api ??= acquireVsCodeApi();
  const vscode = api;
  return {
    post: (message) => vscode.postMessage(message),
    getState: () => {
      const saved = vscode.getState();
      if (saved === undefined || saved === null) return undefined;
      const merged = stateDefaults && typeof saved === 'object' && !Array.isArray(saved) ? { ...stateDefaults, ...saved } : saved;
      const checked = checkSavedState(protocol, merged);
      if (checked.ok) return checked.value;
      console.warn(`Octet ${protocol.name}: saved state dropped (${checked.error})`);
      return undefined;
    },
    setState: (state) => vscode.setState(state),
    onMessage: (handler) => window.addEventListener('message', (event: MessageEvent<unknown>) => {
      const message = event.data;
      if (typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string') handler(message as ToWebview);
    }),
  };
}
