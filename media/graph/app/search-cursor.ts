// Search results across every scope and the one the user is on (Enter / next / previous walk through them).
import { SearchHit, searchGraphs } from '../../../src/graphmodel/search';
import type { ViewGraph } from '../../../src/graphmodel/types';

export class SearchCursor {
  private hits: SearchHit[] = [];
  private index = -1;

  /** Finds every match of `query` (the current scope's first); no match is current yet. */
  find(graphs: ViewGraph[], query: string, scope: string): void {
    this.hits = searchGraphs(graphs, query, scope);
    this.index = -1;
  }

  get count(): number { return this.hits.length; }
  get position(): number { return this.index; }

  /** Moves to the next (1) or previous (-1) match, wrapping; null when there is none. */
  step(delta: 1 | -1): SearchHit | null {
    if (!this.hits.length) return null;
    this.index = (this.index + delta + this.hits.length) % this.hits.length;
    return this.hits[this.index];
  }

  /** The matches in `scope`, and the current one if it is there. */
  inScope(scope: string): { nodes: Set<number>; current: number | null } {
    const current = this.hits[this.index];
    return {
      nodes: new Set(this.hits.filter((hit) => hit.scope === scope).map((hit) => hit.node)),
      current: current && current.scope === scope ? current.node : null,
    };
  }
}
