// The HTML shell of every Octet webview: a strict Content-Security-Policy (nothing by default; the webview's own
// origin for styles, images and fonts; scripts only with this page's fresh nonce), one stylesheet, one script, and the
// page's body. Pure (no vscode) so the browser test harnesses serve the very same pages.
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  /** Origin allowed for styles, images, fonts (webview.cspSource). */
  cspSource: string;
  title: string;
  styleUri: string;
  scriptUri: string;
  /** The page's body markup before the script (already escaped). */
  body: string;
  /** CSP directives beyond the defaults, e.g. "worker-src blob:". */
  extraCsp?: string[];
  /** Image sources beyond the origin and data: URLs (e.g. "blob:"). */
  extraImageSources?: string[];
  nonce?: string;
  /** Extra head markup the test harness injects (its scripts must carry the nonce). */
  extraHead?: (nonce: string) => string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webviewPage(page: WebviewPage): string {
  const nonce = page.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `img-src ${[page.cspSource, 'data:', ...(page.extraImageSources ?? [])].join(' ')}`,
    `style-src ${page.cspSource}`,
    `font-src ${page.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    ...(page.extraCsp ?? []),
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttribute(page.title)}</title>
<link rel="stylesheet" href="${escapeAttribute(page.styleUri)}">
${page.extraHead ? page.extraHead(nonce) : ''}
</head>
<body>
${page.body}
<script nonce="${nonce}" src="${escapeAttribute(page.scriptUri)}"></script>
</body>
</html>`;
}
