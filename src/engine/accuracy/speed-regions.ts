// Where int8 does not pay, read off a time profile: quantized nodes whose int8 kernel plus the Q/DQ/layout kernels
// at their borders take longer than the same node in the FP32 model, grouped into regions of neighbouring nodes
// (through the float or folded nodes between them: a hard-swish's HardSigmoid, a folded Relu) so that a region can go
// back to float as one piece without leaving a Q/DQ round trip inside it. Pure: the speed-aware choice
// (pipeline/speed.ts) measures whether keeping them float really pays.
import type { NodeTiming, TimeProfile } from '../../common/report';
import type { Graph } from '../../onnx/graph';
import type { NodeProto } from '../../onnx/proto';
import { ruleFor, runsInt8Kernel } from '../../quant/registry';
import { roundTo } from '../../common/numbers';

export interface SlowRegion {
  /** FP32 node names (the quantized ones that lose time, and the float or folded ones joining them). */
  nodes: string[];
  /** Profile sums over the region: int8 kernels + their Q/DQ, and the FP32 model's kernels. */
  int8Ms: number;
  floatMs: number;
}

export interface RegionOptions {
  /** A node counts as slower only when it loses more than this (ms per run). */
  minLossMs: number;
  /** Nodes that may not go back to float (none by default). */
  keep?: ReadonlySet<string>;
}

/** Loss in ms of running a node in int8: its int8 kernels and border Q/DQ minus its FP32 time. */
export function int8Loss(t: NodeTiming): number {
  return t.int8Ms + t.overheadMs - t.fp32Ms;
}

/** Regions where int8 lost time in the profile, most lost first. `quantized` are the nodes the INT8 model quantizes. */
export function slowRegions(profile: TimeProfile, graph: Graph, quantized: readonly NodeProto[], options: RegionOptions): SlowRegion[] {
  const timing = new Map(profile.nodes.map((t) => [t.node, t] as const));
  const quantizedNames = new Set(quantized.map((n) => n.name ?? ''));
  const slow = new Set(quantized.filter((n) => runsInt8Kernel(n, graph) && !options.keep?.has(n.name ?? ''))
    .map((n) => n.name ?? '').filter((name) => { const t = timing.get(name); return t !== undefined && int8Loss(t) > options.minLossMs; }));
  const byName = new Map(graph.nodes.map((n) => [n.name ?? '', n] as const));
  // Nodes a region may extend through: not quantized (float, or folded into a quantized producer), and cheap.
  const joins = (n: NodeProto): boolean => !quantizedNames.has(n.name ?? '');
  const neighbours = (n: NodeProto): NodeProto[] => [
    ...n.input.map((i) => graph.producers.get(i)).filter((p): p is NodeProto => p !== undefined),
    ...n.output.flatMap((o) => graph.consumersOf(o)),
  ];
  const seen = new Set<string>();
  const regions: SlowRegion[] = [];
  for (const start of slow) {
    if (seen.has(start)) continue;
    const members: string[] = [];
    const queue = [byName.get(start)!];
    seen.add(start);
    while (queue.length > 0) {
      const n = queue.shift()!;
      members.push(n.name ?? '');
      for (const m of neighbours(n)) {
        const name = m.name ?? '';
        if (seen.has(name)) continue;
        // Through one joining node to the next slow node (a float HardSigmoid between a QLinearConv and a QLinearMul).
        const bridged = joins(m) && neighbours(m).some((x) => x !== n && slow.has(x.name ?? '') && !seen.has(x.name ?? ''));
        if (!slow.has(name) && !bridged) continue;
        seen.add(name);
        queue.push(m);
      }
    }
    // A Relu/Clip folded into its producer goes float with it, never alone: alone, its producer's output would need a
    // range calibration never measured (it observed the activated output).
    const folded = (name: string) => { const n = byName.get(name)!; return ruleFor(n)?.kind === 'foldable-activation' && !members.includes(graph.producers.get(n.input[0] ?? '')?.name ?? ''); };
    for (let i = members.length - 1; i >= 0; i--) if (folded(members[i])) members.splice(i, 1);
    const sum = (f: (t: NodeTiming) => number) => members.reduce((s, name) => s + (timing.get(name) ? f(timing.get(name)!) : 0), 0);
    const int8Ms = sum((t) => (slow.has(t.node) ? t.int8Ms + t.overheadMs : 0));
    const floatMs = sum((t) => (slow.has(t.node) ? t.fp32Ms : 0));
    regions.push({ nodes: members, int8Ms: roundTo(int8Ms), floatMs: roundTo(floatMs) });
  }
  return regions.sort((a, b) => (b.int8Ms - b.floatMs) - (a.int8Ms - a.floatMs));
}

/** The trials a round of the speed-aware search can make: each builds a layout, times it against the current one, and
 *  adopts it when it is faster by the search's margin (true). */
export interface RegionTrials {
  /** Keeps `regions` in float together. */
  float(regions: SlowRegion[]): Promise<boolean>;
  /** Returns `region`, put in float by the last kept float() of this round, to int8. */
  int8(region: SlowRegion): Promise<boolean>;
  overBudget(): boolean;
}

/**
 * One round over `regions` (most promising first): all of them in float together (unless `jointRejected`: measured not
 * to pay before). When that pays, the regions the profile expected least of go back to int8 one at a time — never the
 * most promising one — until one does not pay: a trial that pays as a whole can carry a region that loses time in
 * float, its borders misjudged by the profile. When it does not pay, the `singles` most promising ones are tried one at
 * a time. Returns whether the layout changed.
 */
export async function tryRegions(regions: SlowRegion[], trials: RegionTrials, options: { singles: number; jointRejected: boolean }): Promise<boolean> {
  if (!options.jointRejected && await trials.float(regions)) {
    for (const r of regions.slice(1).reverse().slice(0, options.singles)) {
      if (trials.overBudget() || !await trials.int8(r)) break;
    }
    return true;
  }
  let changed = false;
  if (regions.length > 1) {
    for (const r of regions.slice(0, options.singles)) {
      if (trials.overBudget()) break;
      if (await trials.float([r])) changed = true;
    }
  }
  return changed;
}
