// Layout input and output as flat typed arrays: cheap to post to and from the layout worker (transferable).

export type Direction = 'TB' | 'LR';
export type LayoutAlgorithm = 'dagre' | 'layered';

export interface LayoutInput {
  /** Width and height of node i at [2i], [2i+1] (layout units = CSS pixels at zoom 1). */
  sizes: Float64Array;
  /** Source and target of edge k at [2k], [2k+1] (node indexes). */
  edges: Int32Array;
  direction: Direction;
}

export interface LayoutResult {
  algorithm: LayoutAlgorithm;
  /** Wall time of the layout itself. */
  ms: number;
  /** Node centres. */
  x: Float64Array;
  y: Float64Array;
  /** Polyline of edge k: points [edgeOffsets[k], edgeOffsets[k+1]) of edgePoints as (x, y) pairs. */
  edgePoints: Float64Array;
  edgeOffsets: Uint32Array;
  width: number;
  height: number;
  /** Rank (layer) of every node: keyboard navigation moves within and across ranks. */
  rank: Int32Array;
}

export interface LayoutSpacing {
  nodeSep: number;
  rankSep: number;
  edgeSep: number;
  margin: number;
}

export const DEFAULT_SPACING: LayoutSpacing = { nodeSep: 28, rankSep: 44, edgeSep: 12, margin: 24 };

/** Swaps axes for left-to-right layouts: lay out top-down with transposed sizes, then transpose the result. */
export function transposeSizes(sizes: Float64Array): Float64Array {
  const out = new Float64Array(sizes.length);
  for (let i = 0; i < sizes.length; i += 2) { out[i] = sizes[i + 1]; out[i + 1] = sizes[i]; }
  return out;
}

export function transposeResult(r: LayoutResult): LayoutResult {
  const points = new Float64Array(r.edgePoints.length);
  for (let i = 0; i < points.length; i += 2) { points[i] = r.edgePoints[i + 1]; points[i + 1] = r.edgePoints[i]; }
  return { ...r, x: r.y, y: r.x, edgePoints: points, width: r.height, height: r.width };
}
