// Per-node time profile: ONNX Runtime's profiler times every kernel it runs (batch 1, one thread, warm-up runs left
// out), and each executed kernel — fused, renamed, moved to NHWC or NCHWc by ORT — is mapped back to the node of the
// FP32 optimized graph it computes, using the graph ORT optimized (optimizedModelFilePath): by name (ORT keeps the
// source name, adding `_token_N`; NCHWc kernels are named after their output tensor + `_nchwc`), else by the tensors
// it writes. Q/DQ and layout kernels (Transpose, ReorderInput/Output) ORT runs between kernels are charged to the
// compute kernel they border: a QuantizeLinear to the int8 kernel that reads it, a DequantizeLinear to the one that
// wrote it — the cost of running that node in int8. Kernel times are medians over the profiled runs.
import * as ort from 'onnxruntime-node';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeTiming, TimeProfile } from '../../common/report';
import { Graph } from '../../onnx/graph';
import { parseModel } from '../../onnx/model-io';
import type { ModelProto, NodeProto } from '../../onnx/proto';
import { ruleFor } from '../../quant/registry';
import { runtimeOpRole } from '../../quant/runtime-ops';
import { throwIfCancelled } from '../cancel';
import { executedGraph, openSession, removeOptimized, SessionModel, workFileTag } from './session';
import { roundTo } from '../../common/numbers';

/** One kernel of the graph ORT ran: its time per profiled run (µs). */
export interface KernelTiming { name: string; opType: string; perRunUs: number[] }

export interface KernelProfile {
  /** Kernels by node name of ORT's optimized graph. */
  kernels: Map<string, KernelTiming>;
  /** The graph ORT ran (after all its fusions and layout changes). */
  optimized: ModelProto;
  runs: number;
  /** Wall time of each profiled run (ms). */
  runMs: number[];
}

export interface ProfileOptions {
  /** Profiled runs; with `targetMs`, the fewest (and `maxRuns` the most) as many as take about targetMs. */
  runs: number;
  targetMs?: number;
  maxRuns?: number;
  warmup: number;
  threads: number;
  signal?: AbortSignal;
}

interface TraceEvent { cat?: string; name?: string; ts?: number; dur?: number; args?: { op_name?: string } }

const KERNEL_SUFFIX = '_kernel_time';

/** What a profiled session leaves in the work folder: ORT's trace and the graph it ran (structure only). */
export interface ProfileFiles {
  trace: string;
  optimized: string;
}

/**
 * Runs `model` under ORT's profiler (warm-up runs, then `runs`, or as many as take about `targetMs`) and returns the
 * files it wrote, for readProfile. On whichever thread calls it: profileAside runs it on a thread of its own.
 */
export async function recordProfile(model: SessionModel, feeds: Record<string, ort.Tensor>, options: ProfileOptions, workDir: string,
  label: string): Promise<ProfileFiles> {
  const tag = workFileTag('profile');
  const optimized = join(workDir, `${tag}.onnx`);
  try {
    const session = await openSession(model, { threads: options.threads, level: 'all', optimizedPath: optimized, structureOnly: true, profilePrefix: join(workDir, tag) }, label);
    try {
      for (let r = 0; r < options.warmup; r++) {
        throwIfCancelled(options.signal);
        await session.run(feeds);
      }
      let runs = options.runs;
      for (let r = 0; r < runs; r++) {
        throwIfCancelled(options.signal);
        const t0 = performance.now();
        await session.run(feeds);
        if (r === 0 && options.targetMs) {
          const ms = Math.max(0.05, performance.now() - t0);
          runs = Math.max(options.runs, Math.min(options.maxRuns ?? options.runs, Math.round(options.targetMs / ms)));
        }
      }
    } finally {
      session.endProfiling();
      await session.release();
    }
    const [trace] = traceFiles(workDir, tag);
    if (!trace) throw new Error(`ONNX Runtime wrote no profile for ${label}`);
    return { trace, optimized };
  } catch (err) {
    for (const f of traceFiles(workDir, tag)) rmSync(f, { force: true });
    removeOptimized(optimized);
    throw err;
  }
}

/** The traces ORT's profiler wrote in `workDir` for the prefix `tag` (it adds `_<date>.json`). */
function traceFiles(workDir: string, tag: string): string[] {
  return readdirSync(workDir).filter((f) => f.startsWith(`${tag}_`) && f.endsWith('.json')).map((f) => join(workDir, f));
}

/** Each kernel's time per run from the files recordProfile wrote (warm-up runs left out); removes the files. */
export function readProfile(files: ProfileFiles, warmup: number): KernelProfile {
  try {
    const events = JSON.parse(readFileSync(files.trace, 'utf8')) as TraceEvent[];
    const optimized = parseModel(readFileSync(files.optimized), files.optimized);
    return { ...kernelTimes(events, warmup), optimized };
  } finally {
    rmSync(files.trace, { force: true });
    removeOptimized(files.optimized);
  }
}

/** Runs `model` under ORT's profiler and returns each kernel's time per run, without the warm-up runs. */
export async function profileKernels(model: SessionModel, feeds: Record<string, ort.Tensor>, options: ProfileOptions, workDir: string,
  label: string): Promise<KernelProfile> {
  return readProfile(await recordProfile(model, feeds, options, workDir, label), options.warmup);
}

/** Names of the source model's nodes that ORT runs as int8 kernels (its QDQ fusion keeps the fused node's name). */
export async function int8KernelNodes(model: Uint8Array, workDir: string, label: string): Promise<Set<string>> {
  const executed = await executedGraph(model, workDir, label);
  return new Set((executed.graph?.node ?? []).filter((n) => runtimeOpRole(n.op_type ?? '') === 'int8').map((n) => sourceName(n.name ?? '')));
}

/** Kernel events grouped by run (the `model_run` windows), warm-up runs dropped. */
export function kernelTimes(events: TraceEvent[], warmup: number): Omit<KernelProfile, 'optimized'> {
  const windows = events.filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .map((e) => ({ from: e.ts ?? 0, to: (e.ts ?? 0) + (e.dur ?? 0) })).sort((a, b) => a.from - b.from).slice(warmup);
  const kernels = new Map<string, KernelTiming>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL_SUFFIX)) continue;
    const run = windows.findIndex((w) => (e.ts ?? 0) >= w.from && (e.ts ?? 0) <= w.to);
    if (run < 0) continue;
    const name = e.name.slice(0, -KERNEL_SUFFIX.length);
    let k = kernels.get(name);
    if (!k) { k = { name, opType: e.args?.op_name ?? '?', perRunUs: new Array<number>(windows.length).fill(0) }; kernels.set(name, k); }
    k.perRunUs[run] += e.dur ?? 0;
  }
  return { kernels, runs: windows.length, runMs: windows.map((w) => (w.to - w.from) / 1000) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Kernels that only convert or move data between the kernels that compute (ORT inserts them, or Octet's Q/DQ). */
const BORDER_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'ReorderInput', 'ReorderOutput', 'Transpose', 'Cast', 'Pad']);
/** Border ops that are border kernels only when no FP32 node is theirs (a Pad of kernel-alignment.ts, not a model's). */
const BORDER_UNLESS_NAMED = new Set(['Transpose', 'Cast', 'Pad']);
/** Border kernels that lead into the kernel after them (charged downstream first). */
const LEADS_IN = new Set(['QuantizeLinear', 'DynamicQuantizeLinear', 'ReorderInput', 'Cast', 'Pad']);

/** ORT's suffixes on names of nodes it re-created (layout transformation, fusions). */
function sourceName(name: string): string {
  return name.replace(/(_token_\d+)+$/, '').replace(/_nchwc$/, '');
}

/** Where one executed kernel's time goes. */
interface Attribution {
  /** FP32 node charged; null = unattributed. */
  node: string | null;
  /** Other FP32 nodes the kernel computes too (fused into it). */
  fused: string[];
  border: boolean;
}

/** The model ORT was given, when it is not the FP32 graph itself (Octet's QDQ model). */
export interface SourceModel {
  graph: Graph;
  /** For its tensors that are not FP32 tensors (T_float / T_quantized / input_dequantized): the FP32 tensor they carry. */
  aliases: ReadonlyMap<string, string>;
}

/** Maps every kernel of ORT's optimized graph to an FP32 node. */
export function attributeKernels(fp32: Graph, optimized: ModelProto, source?: SourceModel): Map<string, Attribution> {
  const aliases = source?.aliases ?? new Map<string, string>();
  const sourceNodes = new Map((source?.graph.nodes ?? []).map((n) => [n.name ?? '', n] as const));
  const opt = new Graph(optimized.graph!);
  const fp32Nodes = new Map(fp32.nodes.map((n) => [n.name ?? '', n] as const));
  const isFp32Tensor = (t: string) => fp32.producers.has(t) || fp32.graphInputs.has(t);
  const direct = (t: string): string | null => (isFp32Tensor(t) ? t : aliases.get(t) ?? null);
  const byName = (k: NodeProto): NodeProto | undefined => {
    const found = fp32Nodes.get(k.name ?? '') ?? fp32Nodes.get(sourceName(k.name ?? ''));
    if (found) return found;
    // NCHWc kernels are named after the tensor they write.
    const tensor = (k.name ?? '').endsWith('_nchwc') ? direct(sourceName(k.name ?? '')) : null;
    return tensor ? fp32.producers.get(tensor) : undefined;
  };
  const isBorder = (k: NodeProto): boolean => BORDER_OPS.has(k.op_type ?? '') && (!BORDER_UNLESS_NAMED.has(k.op_type ?? '') || !byName(k));
  // FP32 tensor a kernel output becomes: itself, an alias, or through the border kernels that read it.
  const resolveOut = (t: string, depth = 0): string | null => {
    const d = direct(t);
    if (d || depth > 8) return d;
    for (const c of opt.consumersOf(t)) {
      if (!isBorder(c)) continue;
      const r = resolveOut(c.output[0] ?? '', depth + 1);
      if (r) return r;
    }
    return null;
  };
  // FP32 tensor a kernel input carries: itself, an alias, through the border kernels that wrote it, or what the
  // kernel that wrote it becomes.
  const resolveIn = (t: string, depth = 0): string | null => {
    const d = direct(t);
    if (d || depth > 8) return d;
    const p = opt.producers.get(t);
    return p && isBorder(p) ? resolveIn(p.input[0] ?? '', depth + 1) : resolveOut(t);
  };

  // 1. Each compute kernel's anchor: the FP32 node it is named after, or that writes what it writes.
  const anchors = new Map<NodeProto, NodeProto>();
  for (const k of opt.nodes) {
    if (isBorder(k)) continue;
    let node = byName(k);
    if (!node) {
      const out = k.output.map((o) => resolveOut(o)).find((o) => o !== null);
      node = out ? fp32.producers.get(out) : undefined;
    }
    if (node) anchors.set(k, node);
  }
  // 2. The node it computes most of (FusedConv or an NCHWc Conv named after its Relu -> the Conv), and the nodes
  //    fused into it (the Relu; a Relu folded into a QLinearConv).
  const taken = new Set(anchors.values());
  const main = new Map<NodeProto, NodeProto>();
  const result = new Map<string, Attribution>();
  for (const [k, anchor] of anchors) {
    const stops = new Set(k.input.map((i) => resolveIn(i)).filter((t): t is string => t !== null));
    // What it writes: its outputs, or (NHWC chains name tensors after nodes) what the same node writes in the source
    // model (a QLinearConv writes the output of the Relu folded into it).
    const sourceNode = sourceNodes.get(anchor.name ?? '');
    const written = [...k.output.map((o) => resolveOut(o)), ...(sourceNode?.output ?? []).map((o) => direct(o))];
    const writes = written.map((o) => (o ? fp32.producers.get(o) : undefined)).filter((n): n is NodeProto => n !== undefined);
    const { node, fused } = computedBy(fp32, k.op_type ?? '', [anchor, ...writes], stops, taken);
    main.set(k, node);
    result.set(k.name ?? '', { node: node.name ?? '', fused: fused.map((n) => n.name ?? ''), border: false });
  }
  for (const k of opt.nodes) {
    if (!isBorder(k)) continue;
    const up = neighbourKernel(opt, k, 'up', isBorder);
    const down = neighbourKernel(opt, k, 'down', isBorder);
    const int8 = (n: NodeProto | null) => (n ? runtimeOpRole(n.op_type ?? '') === 'int8' : false);
    let pick: NodeProto | null;
    if (k.op_type === 'Transpose') pick = int8(up) ? up : int8(down) ? down : up ?? down;
    else pick = LEADS_IN.has(k.op_type ?? '') ? down ?? up : up ?? down;
    const node = pick ? main.get(pick) : undefined;
    result.set(k.name ?? '', { node: node?.name ?? null, fused: [], border: true });
  }
  return result;
}

/** The compute kernel next to a border kernel, through other border kernels (first found). */
function neighbourKernel(opt: Graph, k: NodeProto, way: 'up' | 'down', isBorder: (n: NodeProto) => boolean): NodeProto | null {
  const seen = new Set<NodeProto>([k]);
  const queue = [k];
  while (queue.length > 0) {
    const n = queue.shift()!;
    const next = way === 'up'
      ? n.input.slice(0, 1).map((i) => opt.producers.get(i)).filter((p): p is NodeProto => p !== undefined)
      : n.output.flatMap((o) => opt.consumersOf(o));
    for (const m of next) {
      if (seen.has(m)) continue;
      seen.add(m);
      if (!isBorder(m)) return m;
      queue.push(m);
    }
  }
  return null;
}

/**
 * What one kernel computes, from the FP32 nodes it is named after or writes (`starts`, anchor first): the nodes up to
 * three steps above them (not past its inputs or another kernel's anchor) are searched for the one whose op the
 * kernel is a form of (QLinearConv, FusedConv -> Conv), else one with weights, else the anchor; the nodes between it
 * and the starts are fused into it.
 */
function computedBy(fp32: Graph, kernelOp: string, starts: NodeProto[], stops: ReadonlySet<string>,
  taken: ReadonlySet<NodeProto>): { node: NodeProto; fused: NodeProto[] } {
  const visited: NodeProto[] = [];
  let level = [...new Set(starts)];
  for (let depth = 0; depth <= 3 && level.length > 0; depth++) {
    const next: NodeProto[] = [];
    for (const n of level) {
      if (visited.includes(n) || (depth > 0 && taken.has(n))) continue;
      visited.push(n);
      for (const i of n.input) {
        const p = stops.has(i) ? undefined : fp32.producers.get(i);
        if (p) next.push(p);
      }
    }
    level = next;
  }
  const node = visited.find((n) => n.op_type && kernelOp.includes(n.op_type))
    ?? visited.find((n) => ruleFor(n)?.kind === 'weighted')
    ?? starts[0];
  // Nodes between it and the starts: fed, directly or through each other, by it.
  const between = new Set<NodeProto>([node]);
  for (let grew = true; grew;) {
    grew = false;
    for (const n of visited) {
      if (between.has(n) || !n.input.some((i) => { const p = fp32.producers.get(i); return p !== undefined && between.has(p); })) continue;
      between.add(n);
      grew = true;
    }
  }
  between.delete(node);
  return { node, fused: [...between] };
}

/** FP32 tensor names of the tensors Octet's QDQ rewrite added (T_float, T_quantized, input_dequantized, ...). */
export function qdqAliases(qdq: ModelProto, fp32: Graph): Map<string, string> {
  const g = new Graph(qdq.graph!);
  const aliases = new Map<string, string>();
  const isFp32Tensor = (t: string) => fp32.producers.has(t) || fp32.graphInputs.has(t);
  for (const dq of g.nodes) {
    if (dq.op_type !== 'DequantizeLinear') continue;
    // Q -> DQ, or Q -> Pad -> DQ (an input padded for ORT's fast int8 kernel: kernel-alignment.ts).
    const read = dq.input[0] ?? '';
    const pad = g.producers.get(read);
    const quantized = pad?.op_type === 'Pad' ? pad.input[0] ?? '' : read;
    const q = g.producers.get(quantized);
    if (q?.op_type !== 'QuantizeLinear') continue;
    const group = [q.input[0] ?? '', quantized, ...(read !== quantized ? [read] : []), dq.output[0] ?? ''];
    const fp32Name = group.find(isFp32Tensor);
    if (fp32Name) for (const t of group) if (t !== fp32Name) aliases.set(t, fp32Name);
  }
  return aliases;
}

const ms = (us: number) => Math.round(us) / 1000;

/** The Report's TimeProfile: the FP32 model's and the INT8 model's kernels on the FP32 graph's nodes. */
export function timeProfile(fp32: Graph, fp32Profile: KernelProfile, int8Qdq: ModelProto, int8Profile: KernelProfile, threads: number, batch: number): TimeProfile {
  const rows = new Map<string, NodeTiming>();
  const row = (name: string): NodeTiming => {
    let r = rows.get(name);
    if (!r) {
      const op = fp32.nodes.find((n) => n.name === name)?.op_type ?? '';
      r = { node: name, opType: op, fp32Ms: 0, int8Ms: 0, fp32Kernels: [], int8Kernels: [], overheadMs: 0 };
      rows.set(name, r);
    }
    return r;
  };
  const addKernel = (list: string[], op: string) => { if (!list.includes(op)) list.push(op); };
  let unattributed = 0;
  const side = (profile: KernelProfile, source: SourceModel | undefined, int8: boolean): number => {
    const attribution = attributeKernels(fp32, profile.optimized, source);
    let total = 0;
    for (const k of profile.kernels.values()) {
      const us = median(k.perRunUs);
      total += us;
      const a = attribution.get(k.name);
      if (!a?.node) { if (int8) unattributed += us; continue; }
      const r = row(a.node);
      if (int8 && a.border) r.overheadMs += us;
      else if (int8) { r.int8Ms += us; addKernel(r.int8Kernels, k.opType); }
      else { r.fp32Ms += us; if (!a.border) addKernel(r.fp32Kernels, k.opType); }
      for (const f of a.fused) addKernel(int8 ? row(f).int8Kernels : row(f).fp32Kernels, k.opType);
    }
    return total;
  };
  const fp32Total = side(fp32Profile, undefined, false);
  const int8Total = side(int8Profile, { graph: new Graph(int8Qdq.graph!), aliases: qdqAliases(int8Qdq, fp32) }, true);
  const order = fp32.topologicalOrder().map((n) => n.name ?? '');
  const nodes = order.filter((n) => rows.has(n)).map((n) => {
    const r = rows.get(n)!;
    return { ...r, fp32Ms: ms(r.fp32Ms), int8Ms: ms(r.int8Ms), overheadMs: ms(r.overheadMs) };
  });
  const byType = new Map<string, TimeProfile['byOpType'][number]>();
  for (const n of nodes) {
    const t = byType.get(n.opType) ?? { opType: n.opType, count: 0, fp32Ms: 0, int8Ms: 0, overheadMs: 0 };
    t.count++; t.fp32Ms += n.fp32Ms; t.int8Ms += n.int8Ms; t.overheadMs += n.overheadMs;
    byType.set(n.opType, t);
  }
  const byOpType = [...byType.values()].map((t) => ({ ...t, fp32Ms: roundTo(t.fp32Ms), int8Ms: roundTo(t.int8Ms), overheadMs: roundTo(t.overheadMs) }))
    .sort((a, b) => b.fp32Ms - a.fp32Ms || b.int8Ms - a.int8Ms);
  return {
    runs: Math.min(fp32Profile.runs, int8Profile.runs), batch, threads, fp32TotalMs: ms(fp32Total), int8TotalMs: ms(int8Total),
    nodes, byOpType, unattributedInt8Ms: ms(unattributed),
  };
}
