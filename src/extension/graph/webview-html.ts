// The graph webview's HTML (the shared shell of webview-page.ts): a worker from blob: URLs and fetches from its own origin.
import { escapeAttribute, webviewPage } from '../webview-page';

export interface GraphHtmlResources {
  /** Origin allowed for scripts, styles, images and fetch (webview.cspSource). */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** The layout worker script; the page fetches it and starts it from a blob: URL (webviews cannot load workers cross-origin). */
  workerUri: string;
  title: string;
  nonce?: string;
  /** Extra script tags the test harness injects (they must carry the nonce). */
  extraHead?: (nonce: string) => string;
}

export function graphWebviewHtml(r: GraphHtmlResources): string {
  return webviewPage({
    cspSource: r.cspSource, title: r.title, styleUri: r.styleUri, scriptUri: r.scriptUri, nonce: r.nonce, extraHead: r.extraHead,
    extraImageSources: ['blob:'], extraCsp: ['worker-src blob:', `connect-src ${r.cspSource}`],
    body: `<div id="app" data-worker="${escapeAttribute(r.workerUri)}">
  <div class="octet-loading" id="loading" role="status">Reading model…</div>
</div>`,
  });
}
