// One graph editor's conversation with its webview, without vscode: answers 'ready' with the view model, node
// detail requests with statistics computed here, and forwards reveal/overlay pushes once the page is listening.
import { ErrorOverlay } from '../../graphmodel/error-overlay';
import { ModelView } from '../../graphmodel/model-view';
import { graphProtocol, HostToWebview, WebviewToHost } from '../../protocol/graph';
import { checkFromWebview } from '../../protocol/webview';
import { packGraph } from '../../graphmodel/wire';

export interface SessionHooks {
  /** Saves an exported picture; returns the path written, or undefined when the user cancelled. */
  saveExport?(format: 'svg' | 'png', data: string, suggestedName: string): Promise<string | undefined>;
  painted?(info: Extract<WebviewToHost, { type: 'painted' }>): void;
  revealed?(node: string, found: boolean): void;
  /** A message from the page failed the protocol's checks and was ignored (default: logged). */
  rejected?(error: string): void;
  log?(message: string): void;
}

export interface SessionSource {
  /** Resolves to the loaded model, or rejects with a readable error (OctetError for bad files). */
  model(): Promise<ModelView>;
  overlay(): ErrorOverlay | null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class GraphSession {
  private fold = true;
  private initialised = false;
  private pendingReveals: string[] = [];

  /** `openedAt`: when this editor started opening (ms since epoch), for first-paint figures. */
  constructor(private readonly source: SessionSource, private readonly post: (message: HostToWebview) => void,
    private readonly hooks: SessionHooks = {}, private openedAt = Date.now()) {}

  private readyCount = 0;

  /** Acts on a message from the page once it passes the protocol's checks (logged and ignored otherwise). */
  async receive(raw: unknown): Promise<void> {
    const checked = checkFromWebview(graphProtocol, raw);
    if (!checked.ok) {
      if (this.hooks.rejected) this.hooks.rejected(checked.error);
      else this.hooks.log?.(`Graph viewer sent a message that was ignored: ${checked.error}`);
      return;
    }
    await this.handle(checked.value);
  }

  async handle(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A webview re-created after being hidden opens "now", not when the editor first opened.
        if (this.readyCount++ > 0 && typeof message.pageAgeMs === 'number') this.openedAt = Date.now() - message.pageAgeMs;
        this.initialised = false;
        await this.sendInit();
        return;
      case 'setFold':
        this.fold = message.fold;
        await this.sendInit();
        return;
      case 'details': {
        try {
          const view = await this.source.model();
          this.post({ type: 'details', requestId: message.requestId, details: view.nodeDetails(message.scope, message.node, { fold: message.fold }) });
        } catch (err) {
          this.post({ type: 'details', requestId: message.requestId, details: null, error: errorText(err) });
        }
        return;
      }
      case 'export': {
        const path = await this.hooks.saveExport?.(message.format, message.data, message.suggestedName);
        if (path) this.post({ type: 'exported', path });
        return;
      }
      case 'painted':
        this.hooks.painted?.(message);
        return;
      case 'revealed':
        this.hooks.revealed?.(message.node, message.found);
        return;
      default:
        return;
    }
  }

  private async sendInit(): Promise<void> {
    let view: ModelView;
    try {
      view = await this.source.model();
    } catch (err) {
      this.post({ type: 'error', title: 'This ONNX file cannot be shown', message: errorText(err) });
      return;
    }
    this.post({
      type: 'init', model: view.summary(), scopes: view.scopes, graphs: view.graphs({ fold: this.fold }).map(packGraph), fold: this.fold,
      overlay: this.source.overlay(), openedAt: this.openedAt,
    });
    this.initialised = true;
    for (const node of this.pendingReveals.splice(0)) this.post({ type: 'reveal', node });
  }

  /** Focuses a node by name (or output tensor); queued until the webview has the graph. */
  reveal(node: string): void {
    if (this.initialised) this.post({ type: 'reveal', node });
    else this.pendingReveals.push(node);
  }

  pushOverlay(): void {
    if (this.initialised) this.post({ type: 'overlay', overlay: this.source.overlay() });
  }
}
