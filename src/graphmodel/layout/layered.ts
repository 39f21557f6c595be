// The layered layout in either direction (left-right = top-down on transposed sizes). Kept apart from index.ts so
// the webview page can fall back to it without bundling dagre.
import { layeredLayout } from './layered-layout';
import { LayoutInput, LayoutResult, transposeResult, transposeSizes } from './types';

export function layoutLayered(input: LayoutInput): LayoutResult {
  if (input.direction === 'LR') {
    return transposeResult(layeredLayout({ ...input, sizes: transposeSizes(input.sizes), direction: 'TB' }));
  }
  return layeredLayout(input);
}
