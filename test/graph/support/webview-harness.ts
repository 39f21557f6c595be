// Runs the graph webview bundle in headless Chromium the way VS Code would: the same HTML and CSP (served from a
// loopback HTTP server), an acquireVsCodeApi stand-in, and the real host logic (GraphSession + ModelView) in this
// process answering the page's messages. Used by the browser test and scripts/bench-graph.mjs.
import { createServer, Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { graphWebviewHtml } from '../../../src/extension/graph/webview-html';
import { GraphSession, SessionHooks } from '../../../src/extension/graph/graph-session';
import { ErrorOverlay } from '../../../src/graphmodel/error-overlay';
import { ModelView } from '../../../src/graphmodel/model-view';
import { HostToWebview, WebviewToHost } from '../../../src/protocol/graph';
import { THEME_CSS } from './vscode-theme';

export const CHROMIUM = process.env.OCTET_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'];

const MIME: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

export interface HarnessModel {
  title: string;
  /** Loads the model (called when opening starts, as the editor does right after setting the HTML). */
  load(): Promise<ModelView> | ModelView;
  overlay?: ErrorOverlay | null;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  theme?: 'dark' | 'light';
  hooks?: SessionHooks;
  /** What an earlier page saved with setState (VS Code hands it back when it re-creates a hidden webview). */
  state?: unknown;
}

export interface OpenedGraph {
  page: Page;
  session: GraphSession;
  /** Messages the page sent. */
  sent: WebviewToHost[];
  /** Uncaught errors in the page. */
  errors: string[];
  /** Exports the page asked to save. */
  exports: { format: 'svg' | 'png'; data: string; suggestedName: string }[];
  /** Wall time (ms since epoch) when opening started. */
  openedAt: number;
  /** Resolves with the 'painted' message (first paint). */
  painted: Promise<Extract<WebviewToHost, { type: 'painted' }>>;
}

export class WebviewHarness {
  private server: Server | undefined;
  private origin = '';
  private pages = new Map<string, string>();
  private servedListeners: ((file: string) => void)[] = [];
  private nextPage = 1;

  constructor(private readonly distMedia: string) {}

  static distMediaPath(root = process.cwd()): string {
    return resolve(root, 'dist', 'media', 'graph');
  }

  static available(root = process.cwd()): string | undefined {
    if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
    if (!existsSync(join(WebviewHarness.distMediaPath(root), 'graph.main.js'))) return 'dist/media/graph/graph.main.js missing (run node esbuild.mjs)';
    return undefined;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.origin);
      const page = this.pages.get(url.pathname);
      if (page) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page);
        return;
      }
      const theme = /^\/theme\/(dark|light)\.css$/.exec(url.pathname);
      if (theme) {
        res.writeHead(200, { 'content-type': 'text/css' });
        res.end(THEME_CSS[theme[1] as 'dark' | 'light']);
        return;
      }
      if (url.pathname.startsWith('/media/')) {
        const file = normalize(join(this.distMedia, url.pathname.slice('/media/'.length)));
        if (file.startsWith(this.distMedia) && existsSync(file)) {
          res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
          res.end(readFileSync(file));
          for (const listener of this.servedListeners) listener(url.pathname.slice('/media/'.length));
          return;
        }
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once all `files` have been served (or after `timeoutMs`). */
  private waitServed(files: string[], timeoutMs: number): Promise<void> {
    return new Promise((ok) => {
      const left = new Set(files);
      const done = () => {
        clearTimeout(timer);
        this.servedListeners = this.servedListeners.filter((l) => l !== listener);
        ok();
      };
      const listener = (file: string) => { left.delete(file); if (left.size === 0) done(); };
      const timer = setTimeout(done, timeoutMs);
      this.servedListeners.push(listener);
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  /**
   * Opens `model` in a fresh page of `browser`, answering the page like the extension host. `state` is what an
   * earlier page saved with setState (VS Code hands it back when it re-creates a hidden webview).
   */
  async open(browser: Browser, model: HarnessModel, options: OpenOptions = {}): Promise<OpenedGraph> {
    const viewport = options.viewport ?? { width: 1400, height: 900 };
    const themeKind = options.theme ?? 'dark';
    const hooks = options.hooks ?? {};
    const path = `/graph-${this.nextPage++}.html`;
    const html = graphWebviewHtml({
      cspSource: this.origin,
      scriptUri: `${this.origin}/media/graph.main.js`,
      styleUri: `${this.origin}/media/graph.main.css`,
      workerUri: `${this.origin}/media/layout-worker.main.js`,
      title: model.title,
      extraHead: (nonce) => `<link rel="stylesheet" href="${this.origin}/theme/${themeKind}.css">
      <script nonce="${nonce}">
        (() => {
          // VS Code puts the theme kind on <body>: do the same as soon as the parser creates it.
          new MutationObserver((_, observer) => {
            if (!document.body) return;
            document.body.classList.add('vscode-${themeKind}');
            document.body.dataset.vscodeThemeKind = 'vscode-${themeKind}';
            observer.disconnect();
          }).observe(document.documentElement, { childList: true });
          let state = ${JSON.stringify(options.state ?? null).replace(/</g, '\\u003c')};
          window.__octetState = () => state;
          window.__octetSent = [];
          window.acquireVsCodeApi = () => ({
            postMessage: (m) => { window.__octetSent.push(m); window.__octetHost(m); },
            getState: () => state,
            setState: (s) => { state = JSON.parse(JSON.stringify(s)); },
          });
        })();
      </script>`,
    });
    this.pages.set(path, html);
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const sent: WebviewToHost[] = [];
    const exports: OpenedGraph['exports'] = [];
    let resolvePainted: (m: Extract<WebviewToHost, { type: 'painted' }>) => void = () => undefined;
    const painted = new Promise<Extract<WebviewToHost, { type: 'painted' }>>((ok) => { resolvePainted = ok; });
    let loading: Promise<ModelView> | undefined;
    const loadModel = () => {
      if (!loading) loading = Promise.resolve().then(() => model.load());
      return loading;
    };
    const post = (message: HostToWebview) => {
      // VS Code serialises webview messages as JSON too; a string crosses CDP far faster than an object tree.
      void page.evaluate((json) => { window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(json) })); }, JSON.stringify(message))
        .catch(() => undefined);
    };
    const source = { model: loadModel, overlay: () => model.overlay ?? null };
    /** Uncaught page errors, and messages the host refused (the page must only send what the protocol allows). */
    const errors: string[] = [];
    const sessionHooks: SessionHooks = {
      ...hooks,
      rejected: (error) => errors.push(`host refused a message: ${error}`),
      saveExport: async (format, data, suggestedName) => { exports.push({ format, data, suggestedName }); return `/virtual/${suggestedName}`; },
    };
    let session = new GraphSession(source, post, sessionHooks);
    await page.exposeBinding('__octetHost', async (_source, message: WebviewToHost) => {
      sent.push(message);
      if (message.type === 'painted') resolvePainted(message);
      await session.receive(message);
    });
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    // "The editor opens" here: VS Code has created the webview and the provider sets its HTML and starts reading.
    // In VS Code the extension host reads the model while other processes serve the webview's files; this process
    // does both, so it starts reading once the page has its files (or after 1.5 s).
    const openedAt = Date.now();
    session = new GraphSession(source, post, sessionHooks, openedAt);
    const served = this.waitServed(['graph.main.js', 'graph.main.css'], 1500);
    const navigation = page.goto(`${this.origin}${path}`);
    await served;
    void loadModel().catch(() => undefined);
    await navigation;
    return { page, session, sent, errors, exports, openedAt, painted };
  }
}

/**
 * For a describe block: launches Chromium and starts a harness before its tests and closes both after them (node:test
 * hooks, so call it inside the describe); `open` shows a model in a fresh page of that browser.
 */
export function chromiumHarness(outDir: string): { open(model: HarnessModel, options?: OpenOptions): Promise<OpenedGraph> } {
  const harness = new WebviewHarness(WebviewHarness.distMediaPath());
  let browser: Browser | undefined;
  before(async () => {
    mkdirSync(outDir, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await harness.start();
  });
  after(async () => {
    await browser?.close();
    await harness.stop();
  });
  return {
    open: (model, options) => {
      if (!browser) throw new Error('Chromium is not running: open pages inside the tests of the describe block');
      return harness.open(browser, model, options);
    },
  };
}
