// Laid-out scenes, one per (scope, direction, folding): a layout runs once (in the worker) and is reused when the
// user comes back to a scope or toggles a view option back.
import type { Direction, LayoutResult } from '../../../src/graphmodel/layout/types';
import type { ViewGraph } from '../../../src/graphmodel/types';
import { Measure, nodeBox } from '../view/node-boxes';
import { Scene } from '../view/scene';
import type { LayoutClient } from './layout-client';

export class SceneCache {
  private readonly scenes = new Map<string, Promise<Scene>>();

  constructor(private readonly layoutClient: LayoutClient, private readonly measure: () => Measure) {}

  static key(scope: string, direction: Direction, fold: boolean): string {
    return `${scope}|${direction}|${fold}`;
  }

  get(graph: ViewGraph, direction: Direction, fold: boolean): Promise<Scene> {
    const key = SceneCache.key(graph.scope, direction, fold);
    let scene = this.scenes.get(key);
    if (!scene) {
      scene = this.layout(graph, direction);
      this.scenes.set(key, scene);
    }
    return scene;
  }

  clear(): void {
    this.scenes.clear();
  }

  private async layout(graph: ViewGraph, direction: Direction): Promise<Scene> {
    const measure = this.measure();
    const boxes = graph.nodes.map((n) => nodeBox(n, measure));
    const sizes = new Float64Array(2 * boxes.length);
    boxes.forEach((b, i) => { sizes[2 * i] = b.width; sizes[2 * i + 1] = b.height; });
    const edges = new Int32Array(2 * graph.edges.length);
    graph.edges.forEach((e, k) => { edges[2 * k] = e.from; edges[2 * k + 1] = e.to; });
    performance.mark('octet:layout-start');
    const layout: LayoutResult = await this.layoutClient.layout({ sizes, edges, direction });
    performance.mark('octet:layout-end');
    return new Scene(graph, boxes, layout);
  }
}
