// Layout web worker: receives node sizes and edges, answers with coordinates (typed arrays, transferred).
import { layoutGraph } from '../../src/graphmodel/layout';
import type { LayoutAlgorithm, LayoutInput } from '../../src/graphmodel/layout/types';

interface LayoutRequest { id: number; input: LayoutInput; preferred?: LayoutAlgorithm }

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, input, preferred } = event.data;
  try {
    const result = layoutGraph(input, preferred);
    scope.postMessage({ id, result }, [result.x.buffer, result.y.buffer, result.edgePoints.buffer, result.edgeOffsets.buffer, result.rank.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }, []);
  }
};
