// Octet's own layered (Sugiyama) layout for graphs too large for dagre: linear-time ranking with a local
// edge-shortening pass, dummy nodes for long edges, barycentric crossing reduction (best of a few sweeps, crossings
// counted with a Fenwick tree) and coordinates from weighted isotonic regression (pool-adjacent-violators) per layer,
// which keeps chains and long edges straight. Everything runs on typed arrays; 10,000 nodes take well under a second.
import { DEFAULT_SPACING, LayoutInput, LayoutResult, LayoutSpacing } from './types';

/** Compressed adjacency: neighbours of v are list[start[v] .. start[v+1]). */
interface Adjacency { start: Int32Array; list: Int32Array }

function buildAdjacency(count: number, from: ArrayLike<number>, to: ArrayLike<number>, edgeCount: number): Adjacency {
  const start = new Int32Array(count + 1);
  for (let k = 0; k < edgeCount; k++) start[from[k] + 1]++;
  for (let v = 0; v < count; v++) start[v + 1] += start[v];
  const fill = start.slice(0, count);
  const list = new Int32Array(edgeCount);
  for (let k = 0; k < edgeCount; k++) list[fill[from[k]]++] = to[k];
  return { start, list };
}

/** Unique directed pairs without self loops, back edges reversed (iterative DFS), as parallel arrays. */
function acyclicPairs(n: number, edges: Int32Array): { from: Int32Array; to: Int32Array; reversed: Uint8Array; key: Map<number, number> } {
  const seen = new Set<number>();
  const pf: number[] = [];
  const pt: number[] = [];
  for (let k = 0; k < edges.length / 2; k++) {
    const a = edges[2 * k];
    const b = edges[2 * k + 1];
    if (a === b || a < 0 || b < 0 || a >= n || b >= n) continue;
    const id = a * n + b;
    if (seen.has(id)) continue;
    seen.add(id);
    pf.push(a); pt.push(b);
  }
  const m = pf.length;
  const out = buildAdjacency(n, pf, pt, m);
  // Edge index per adjacency slot, to mark back edges.
  const slotEdge = new Int32Array(m);
  {
    const fill = out.start.slice(0, n);
    for (let k = 0; k < m; k++) slotEdge[fill[pf[k]]++] = k;
  }
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const reversed = new Uint8Array(m);
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    let top = 0;
    stack[0] = root; state[root] = 1; cursor[root] = out.start[root];
    while (top >= 0) {
      const v = stack[top];
      if (cursor[v] < out.start[v + 1]) {
        const slot = cursor[v]++;
        const w = out.list[slot];
        if (state[w] === 1) reversed[slotEdge[slot]] = 1;
        else if (state[w] === 0) { state[w] = 1; cursor[w] = out.start[w]; stack[++top] = w; }
      } else {
        state[v] = 2;
        top--;
      }
    }
  }
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const key = new Map<number, number>();
  for (let k = 0; k < m; k++) {
    from[k] = reversed[k] ? pt[k] : pf[k];
    to[k] = reversed[k] ? pf[k] : pt[k];
    key.set(pf[k] * n + pt[k], k);
  }
  return { from, to, reversed, key };
}

/** Longest-path ranks, then nodes with more outgoing than incoming edges slide down towards their readers. */
function assignRanks(n: number, from: Int32Array, to: Int32Array): Int32Array {
  const m = from.length;
  const out = buildAdjacency(n, from, to, m);
  const inc = buildAdjacency(n, to, from, m);
  const indegree = new Int32Array(n);
  for (let k = 0; k < m; k++) indegree[to[k]]++;
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let v = 0; v < n; v++) if (indegree[v] === 0) order[tail++] = v;
  const rank = new Int32Array(n);
  while (head < tail) {
    const v = order[head++];
    for (let s = out.start[v]; s < out.start[v + 1]; s++) {
      const w = out.list[s];
      if (rank[v] + 1 > rank[w]) rank[w] = rank[v] + 1;
      if (--indegree[w] === 0) order[tail++] = w;
    }
  }
  for (let i = tail - 1; i >= 0; i--) {
    const v = order[i];
    const outDeg = out.start[v + 1] - out.start[v];
    const inDeg = inc.start[v + 1] - inc.start[v];
    if (outDeg === 0 || outDeg <= inDeg) continue;
    let limit = Infinity;
    for (let s = out.start[v]; s < out.start[v + 1]; s++) limit = Math.min(limit, rank[out.list[s]] - 1);
    if (limit > rank[v]) rank[v] = limit;
  }
  return rank;
}

/** Number of crossings between two adjacent layers (edges given as (northPos, southPos) pairs), O(E log V). */
function countCrossings(north: Int32Array, south: Int32Array, count: number, southSize: number, tree: Int32Array): number {
  // Sort edges by north then south position.
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  idx.sort((a, b) => north[a] - north[b] || south[a] - south[b]);
  tree.fill(0, 0, southSize + 1);
  let crossings = 0;
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const p = south[idx[i]] + 1;
    // Edges already seen whose south end lies right of p cross this one.
    let le = 0;
    for (let j = p; j > 0; j -= j & -j) le += tree[j];
    crossings += seen - le;
    for (let j = p; j <= southSize; j += j & -j) tree[j]++;
    seen++;
  }
  return crossings;
}

/** Weighted isotonic placement: minimise sum w_i (x_i - d_i)^2 with x_{i+1} - x_i >= sep_i (pool adjacent violators). */
function placeLayer(desired: Float64Array, weight: Float64Array, sep: Float64Array, count: number, out: Float64Array,
  blockStart: Int32Array, blockSum: Float64Array, blockWeight: Float64Array): void {
  let offset = 0;
  let blocks = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) offset += sep[i - 1];
    const target = desired[i] - offset;
    const w = weight[i];
    blockStart[blocks] = i; blockSum[blocks] = target * w; blockWeight[blocks] = w;
    blocks++;
    while (blocks > 1 && blockSum[blocks - 2] / blockWeight[blocks - 2] > blockSum[blocks - 1] / blockWeight[blocks - 1]) {
      blockSum[blocks - 2] += blockSum[blocks - 1];
      blockWeight[blocks - 2] += blockWeight[blocks - 1];
      blocks--;
    }
  }
  offset = 0;
  let b = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) offset += sep[i - 1];
    while (b + 1 < blocks && blockStart[b + 1] <= i) b++;
    out[i] = blockSum[b] / blockWeight[b] + offset;
  }
}

/** Weight of the pull towards x = 0 (a neighbour weighs 1): small enough not to bend chains. */
const ANCHOR = 0.05;

/** Dummy nodes per long edge past which edges are drawn straight instead (keeps pathological graphs linear). */
const MAX_DUMMIES = 300_000;

export function layeredLayout(input: LayoutInput, spacing: LayoutSpacing = DEFAULT_SPACING): LayoutResult {
  const start = performance.now();
  const n = input.sizes.length / 2;
  const { from, to, reversed, key } = acyclicPairs(n, input.edges);
  const rank = assignRanks(n, from, to);

  // Virtual graph: real nodes 0..n-1, then dummies for edges spanning more than one rank.
  let dummyBudget = MAX_DUMMIES;
  const vRank: number[] = Array.from(rank);
  const vFrom: number[] = [];
  const vTo: number[] = [];
  const chainStart = new Int32Array(from.length).fill(-1); // first dummy of pair k's chain
  const chainLength = new Int32Array(from.length);
  for (let k = 0; k < from.length; k++) {
    const a = from[k];
    const b = to[k];
    const span = rank[b] - rank[a];
    if (span <= 1 || span - 1 > dummyBudget) { vFrom.push(a); vTo.push(b); continue; }
    dummyBudget -= span - 1;
    let prev = a;
    chainStart[k] = vRank.length;
    chainLength[k] = span - 1;
    for (let r = rank[a] + 1; r < rank[b]; r++) {
      const d = vRank.length;
      vRank.push(r);
      vFrom.push(prev); vTo.push(d);
      prev = d;
    }
    vFrom.push(prev); vTo.push(b);
  }
  const total = vRank.length;
  const vm = vFrom.length;
  const vOut = buildAdjacency(total, vFrom, vTo, vm);
  const vIn = buildAdjacency(total, vTo, vFrom, vm);
  const width = new Float64Array(total);
  const height = new Float64Array(total);
  for (let v = 0; v < n; v++) { width[v] = input.sizes[2 * v]; height[v] = input.sizes[2 * v + 1]; }
  const isDummy = (v: number) => v >= n;

  // Layers, initial order by iterative DFS from sources (keeps branches of a block next to each other).
  let maxRank = 0;
  for (let v = 0; v < total; v++) if (vRank[v] > maxRank) maxRank = vRank[v];
  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  {
    const visited = new Uint8Array(total);
    const stack: number[] = [];
    const roots: number[] = [];
    for (let v = 0; v < total; v++) if (vIn.start[v + 1] === vIn.start[v]) roots.push(v);
    roots.sort((a, b) => vRank[a] - vRank[b] || a - b);
    const visit = (root: number) => {
      stack.push(root);
      while (stack.length) {
        const v = stack.pop() as number;
        if (visited[v]) continue;
        visited[v] = 1;
        layers[vRank[v]].push(v);
        for (let s = vOut.start[v + 1] - 1; s >= vOut.start[v]; s--) if (!visited[vOut.list[s]]) stack.push(vOut.list[s]);
      }
    };
    for (const r of roots) visit(r);
    for (let v = 0; v < total; v++) if (!visited[v]) visit(v);
  }
  const pos = new Int32Array(total);
  const applyOrder = () => { for (const layer of layers) layer.forEach((v, i) => { pos[v] = i; }); };
  applyOrder();

  // Crossing reduction: barycentre sweeps, keep the best order seen.
  let maxLayer = 1;
  for (const layer of layers) maxLayer = Math.max(maxLayer, layer.length);
  const tree = new Int32Array(maxLayer + 2);
  const northBuf = new Int32Array(vm);
  const southBuf = new Int32Array(vm);
  const crossings = (): number => {
    let totalCrossings = 0;
    for (let r = 0; r < layers.length - 1; r++) {
      let c = 0;
      for (const v of layers[r]) {
        for (let s = vOut.start[v]; s < vOut.start[v + 1]; s++) {
          const w = vOut.list[s];
          if (vRank[w] !== r + 1) continue;
          northBuf[c] = pos[v]; southBuf[c] = pos[w]; c++;
        }
      }
      if (c > 1) totalCrossings += countCrossings(northBuf, southBuf, c, layers[r + 1].length, tree);
    }
    return totalCrossings;
  };
  let best = crossings();
  let bestLayers = layers.map((l) => l.slice());
  const bary = new Float64Array(total);
  const sweeps = total > 20_000 ? 2 : total > 5_000 ? 4 : 8;
  for (let iter = 0; iter < sweeps && best > 0; iter++) {
    const down = iter % 2 === 0;
    for (let step = 1; step < layers.length; step++) {
      const r = down ? step : layers.length - 1 - step;
      const adj = down ? vIn : vOut;
      const layer = layers[r];
      for (const v of layer) {
        let sum = 0;
        let count = 0;
        for (let s = adj.start[v]; s < adj.start[v + 1]; s++) { sum += pos[adj.list[s]]; count++; }
        bary[v] = count ? sum / count : pos[v];
      }
      layer.sort((a, b) => bary[a] - bary[b] || pos[a] - pos[b]);
      layer.forEach((v, i) => { pos[v] = i; });
    }
    const c = crossings();
    if (c < best) { best = c; bestLayers = layers.map((l) => l.slice()); }
  }
  for (let r = 0; r < layers.length; r++) layers[r] = bestLayers[r];
  applyOrder();

  // Coordinates across ranks.
  const x = new Float64Array(total);
  const sep = new Float64Array(maxLayer);
  const desired = new Float64Array(maxLayer);
  const weight = new Float64Array(maxLayer);
  const placed = new Float64Array(maxLayer);
  const blockStart = new Int32Array(maxLayer);
  const blockSum = new Float64Array(maxLayer);
  const blockWeight = new Float64Array(maxLayer);
  const gap = (a: number, b: number) => (width[a] + width[b]) / 2 + (isDummy(a) && isDummy(b) ? spacing.edgeSep : isDummy(a) || isDummy(b) ? (spacing.nodeSep + spacing.edgeSep) / 2 : spacing.nodeSep);
  for (const layer of layers) {
    let cx = 0;
    layer.forEach((v, i) => { if (i > 0) cx += gap(layer[i - 1], v); x[v] = cx; });
    const shift = cx / 2;
    for (const v of layer) x[v] -= shift;
  }
  const passes = 10;
  for (let pass = 0; pass < passes; pass++) {
    const mode = pass === passes - 1 ? 2 : pass % 2; // 0: from above, 1: from below, 2: both
    const downward = mode !== 1;
    for (let step = 0; step < layers.length; step++) {
      const r = downward ? step : layers.length - 1 - step;
      const layer = layers[r];
      const count = layer.length;
      for (let i = 0; i < count; i++) {
        const v = layer[i];
        let sum = 0;
        let wsum = 0;
        const gather = (adj: Adjacency) => {
          for (let s = adj.start[v]; s < adj.start[v + 1]; s++) {
            const u = adj.list[s];
            const w = isDummy(u) && isDummy(v) ? 8 : isDummy(u) || isDummy(v) ? 2 : 1;
            sum += w * x[u]; wsum += w;
          }
        };
        if (mode !== 1) gather(vIn);
        if (mode !== 0) gather(vOut);
        // A weak pull towards the axis keeps long graphs from drifting sideways block after block.
        wsum += ANCHOR;
        desired[i] = sum / wsum;
        weight[i] = wsum;
        if (i > 0) sep[i - 1] = gap(layer[i - 1], v);
      }
      placeLayer(desired, weight, sep, count, placed, blockStart, blockSum, blockWeight);
      for (let i = 0; i < count; i++) x[layer[i]] = placed[i];
    }
  }

  // Coordinates along ranks.
  const layerTop = new Float64Array(layers.length);
  const layerHeight = new Float64Array(layers.length);
  for (let v = 0; v < total; v++) layerHeight[vRank[v]] = Math.max(layerHeight[vRank[v]], height[v]);
  let cy = spacing.margin;
  for (let r = 0; r < layers.length; r++) { layerTop[r] = cy; cy += layerHeight[r] + spacing.rankSep; }
  let minX = Infinity;
  let maxX = -Infinity;
  for (let v = 0; v < total; v++) { minX = Math.min(minX, x[v] - width[v] / 2); maxX = Math.max(maxX, x[v] + width[v] / 2); }
  if (!Number.isFinite(minX)) { minX = 0; maxX = 0; }
  const dx = spacing.margin - minX;
  const nodeX = new Float64Array(n);
  const nodeY = new Float64Array(n);
  const centerY = (v: number) => layerTop[vRank[v]] + layerHeight[vRank[v]] / 2;
  for (let v = 0; v < n; v++) { nodeX[v] = x[v] + dx; nodeY[v] = centerY(v); }

  // Edge polylines: source bottom, the chain's dummies, target top (reversed edges drawn back the way they came).
  const edgeCount = input.edges.length / 2;
  const offsets = new Uint32Array(edgeCount + 1);
  const points: number[] = [];
  const bottom = (v: number) => nodeY[v] + height[v] / 2;
  const topOf = (v: number) => nodeY[v] - height[v] / 2;
  for (let e = 0; e < edgeCount; e++) {
    offsets[e] = points.length / 2;
    const a = input.edges[2 * e];
    const b = input.edges[2 * e + 1];
    if (a === b || a < 0 || b < 0 || a >= n || b >= n) {
      if (a >= 0 && a < n) {
        const right = nodeX[a] + width[a] / 2;
        points.push(right, nodeY[a] - 6, right + 18, nodeY[a], right, nodeY[a] + 6);
      }
      continue;
    }
    const k = key.get(a * n + b) as number;
    const u = reversed[k] ? b : a;
    const w = reversed[k] ? a : b;
    const chain: number[] = [nodeX[u], bottom(u)];
    for (let i = 0; i < chainLength[k]; i++) {
      const d = chainStart[k] + i;
      chain.push(x[d] + dx, layerTop[vRank[d]], x[d] + dx, layerTop[vRank[d]] + layerHeight[vRank[d]]);
    }
    chain.push(nodeX[w], topOf(w));
    if (reversed[k]) {
      for (let i = chain.length - 2; i >= 0; i -= 2) points.push(chain[i], chain[i + 1]);
    } else {
      for (const p of chain) points.push(p);
    }
  }
  offsets[edgeCount] = points.length / 2;
  const realRank = new Int32Array(n);
  for (let v = 0; v < n; v++) realRank[v] = vRank[v];
  return {
    algorithm: 'layered', ms: performance.now() - start, x: nodeX, y: nodeY, rank: realRank,
    edgePoints: Float64Array.from(points), edgeOffsets: offsets,
    width: maxX - minX + 2 * spacing.margin, height: cy - spacing.rankSep + spacing.margin,
  };
}
