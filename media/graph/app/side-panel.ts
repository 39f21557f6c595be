// The side panel: the model summary, or the selected node with its details (asked of the host, which reads the
// weights; a newer request makes an older answer stale) and its overlay figures.
import type { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import type { NodeDetails } from '../../../src/protocol/graph';
import type { ScopeInfo, ViewGraph } from '../../../src/graphmodel/types';
import type { InitMessage } from '../../../src/protocol/graph';
import { clear, h } from '../view/dom';
import { renderModelPanel } from '../view/model-panel';
import { renderNodePanel } from '../view/node-panel';

type DetailsState = NodeDetails | 'loading' | { error: string } | null;

export interface PanelContext {
  init: InitMessage | undefined;
  graph: ViewGraph | undefined;
  scopes: ReadonlyMap<string, ScopeInfo>;
  overlay: OverlayIndex | null;
  selected: number | null;
  /** Which panel the page state asks for. */
  panel: 'model' | 'node' | 'none';
  openScope: (scope: string) => void;
  followTensor: (tensor: string, direction: 'input' | 'output') => void;
}

export class SidePanel {
  readonly element = h('aside', { class: 'panel', 'aria-label': 'Details', hidden: true });
  private details: DetailsState = null;
  private request = 0;

  /** Starts a details request for a node (returns its id for the host message), or clears them for a non-op node. */
  ask(isOp: boolean): number | null {
    this.details = isOp ? 'loading' : null;
    return isOp ? ++this.request : null;
  }

  /** Takes the host's answer; false when it answers an older request (ignored). */
  answer(requestId: number, details: NodeDetails | null, error?: string): boolean {
    if (requestId !== this.request) return false;
    this.details = details ?? { error: error ?? 'unknown error' };
    return true;
  }

  render(ctx: PanelContext): void {
    clear(this.element);
    const { graph, selected } = ctx;
    if (ctx.panel === 'model' && ctx.init) {
      this.element.append(renderModelPanel(ctx.init.model, ctx.init.overlay));
    } else if (ctx.panel === 'node' && graph && selected !== null) {
      const node = graph.nodes[selected];
      const scope = ctx.scopes.get(graph.scope) ?? { id: graph.scope, title: graph.scope, kind: 'main' as const, path: [graph.scope] };
      this.element.append(renderNodePanel(node, scope, this.details, { layer: ctx.overlay?.forNode(node), time: ctx.overlay?.timeForNode(node) }, {
        openScope: ctx.openScope, followTensor: ctx.followTensor,
      }));
    }
    this.element.hidden = this.element.childElementCount === 0;
  }
}
