// The start of every HTML page Octet makes (the report page, the webviews): doctype, language, charset, the
// Content-Security-Policy, viewport and title, then the page's own head markup.

export function htmlEscape(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Text inside a double-quoted attribute (single quotes, as in CSP keywords, stay as they are). */
export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<!DOCTYPE html>` up to and including `<head>`'s own markup (not closed: the caller adds `head` and closes it). */
export function htmlPageStart(page: { csp: string; title: string; head: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(page.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(page.title)}</title>
${page.head}`;
}
