// Checks messages from the webview before acting on them (the page is untrusted input like any other).
import { WebviewToHost } from '../../protocol/graph';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function asWebviewMessage(value: unknown): WebviewToHost | undefined {
  if (!isRecord(value) || typeof value.type !== 'string') return undefined;
  switch (value.type) {
    case 'ready':
      return value.pageAgeMs === undefined || typeof value.pageAgeMs === 'number' ? value as WebviewToHost : undefined;
    case 'details':
      return typeof value.requestId === 'number' && typeof value.scope === 'string' && typeof value.node === 'number'
        && typeof value.fold === 'boolean' ? value as WebviewToHost : undefined;
    case 'setFold':
      return typeof value.fold === 'boolean' ? value as WebviewToHost : undefined;
    case 'export':
      return (value.format === 'svg' || value.format === 'png') && typeof value.data === 'string'
        && typeof value.suggestedName === 'string' ? value as WebviewToHost : undefined;
    case 'painted':
      return typeof value.firstPaintMs === 'number' ? value as WebviewToHost : undefined;
    case 'revealed':
      return typeof value.node === 'string' && typeof value.found === 'boolean' ? value as WebviewToHost : undefined;
    default:
      return undefined;
  }
}
