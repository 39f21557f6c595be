// The VS Code webview API (or the test harness's stand-in), typed for this page.
import type { Direction } from '../../../src/graphmodel/layout/types';
import type { WebviewToHost } from '../../../src/protocol/graph';
import type { OverlayMetric } from '../../../src/graphmodel/error-overlay';
import type { ViewportState } from '../view/viewport';

/** What the page remembers across hide/show and reloads (vscode.setState). */
export interface PersistedState {
  scope: string;
  /** Label of the selected node in `scope`. */
  selected?: string;
  viewports: Record<string, ViewportState>;
  direction: Direction;
  fold: boolean;
  overlayOn: boolean;
  /** Colour by accumulated error or by the error each layer adds. */
  overlayMetric: OverlayMetric;
  panel: 'node' | 'model' | 'none';
  query: string;
}

export interface HostApi {
  post(message: WebviewToHost): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}

interface VsCodeApi { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export function connectHost(): HostApi {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    getState: () => {
      const s = api.getState() as Partial<PersistedState> | undefined;
      return s && typeof s.scope === 'string' ? { ...defaultState(), ...s } as PersistedState : undefined;
    },
    setState: (state) => api.setState(state),
  };
}

export function defaultState(): PersistedState {
  return { scope: 'main', viewports: {}, direction: 'TB', fold: true, overlayOn: true, overlayMetric: 'accumulated', panel: 'none', query: '' };
}
