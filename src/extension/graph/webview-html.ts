// The graph webview's HTML: strict CSP with a nonce, local resources only. Pure (no vscode) so the browser test
// harness serves the very same page.
import { randomBytes } from 'node:crypto';

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

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function graphWebviewHtml(r: GraphHtmlResources): string {
  const nonce = r.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `img-src ${r.cspSource} data: blob:`,
    `style-src ${r.cspSource}`,
    `font-src ${r.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    'worker-src blob:',
    `connect-src ${r.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(r.title)}</title>
<link rel="stylesheet" href="${escapeAttr(r.styleUri)}">
${r.extraHead ? r.extraHead(nonce) : ''}
</head>
<body>
<div id="app" data-worker="${escapeAttr(r.workerUri)}">
  <div class="octet-loading" id="loading" role="status">Reading model…</div>
</div>
<script nonce="${nonce}" src="${escapeAttr(r.scriptUri)}"></script>
</body>
</html>`;
}
