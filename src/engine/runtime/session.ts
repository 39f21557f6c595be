// onnxruntime-node behind a few functions: open a session with clear errors, run float inputs, read the op
// histogram of what ORT actually executes (its optimized graph), and the library version.
import * as ort from 'onnxruntime-node';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OctetError } from '../../common/errors';
import { parseModel, readModelBytes } from '../../onnx/model-io';
import type { ModelProto, SplitModel } from '../../onnx/proto';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionSettings {
  /** Intra-op threads; 0 = ORT default (all cores). */
  threads: number;
  level: OptimizationLevel;
  /** Where ORT writes the graph it optimized (to read back what runs). */
  optimizedPath?: string;
  /**
   * ORT writes the optimized graph's initializers of OPTIMIZED_APART_BYTES or more to optimizedWeightsPath(optimizedPath)
   * instead of into the graph: for readers of what runs, who need not read ResNet-50's 100 MB of weights back.
   */
  structureOnly?: boolean;
  /**
   * Calibration-style sessions expose every intermediate tensor as an output; without ORT's arena those buffers are
   * freed after each run instead of being kept as the arena's high-water mark.
   */
  lowMemory?: boolean;
  /**
   * false: ORT's idle intra-op threads sleep instead of spinning between parallel sections — for runs that share the
   * cores with Octet's own threads (decoding, folding statistics), which spinning would starve.
   */
  spin?: boolean;
  /** Turns ORT's profiler on: it writes PREFIX_<date>.json when the session's endProfiling() is called. */
  profilePrefix?: string;
}

export function ortVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}

/** Initializers of at least this many bytes that a structureOnly session's optimized graph keeps in a file apart. */
const OPTIMIZED_APART_BYTES = 1024;

/** The file of the weights a structureOnly session writes beside its optimized graph (the caller removes it too). */
export function optimizedWeightsPath(optimizedPath: string): string {
  return `${optimizedPath}.weights`;
}

/** Removes what a session wrote with `optimizedPath`: the graph, and its weights apart when it was structureOnly. */
export function removeOptimized(optimizedPath: string): void {
  rmSync(optimizedPath, { force: true });
  rmSync(optimizedWeightsPath(optimizedPath), { force: true });
}

/** What a session opens: a model file, a model's bytes, or a model split from its large initializers (encodeSplit). */
export type SessionModel = Uint8Array | string | SplitModel;

/**
 * Work on other threads that times ONNX Runtime (profile-aside.ts) while this thread does JavaScript. A session this
 * thread opens meanwhile waits for it: its runs would share the cores the timing runs on.
 */
const timedAside = new Set<Promise<unknown>>();

/** Registers `work` as timed aside until it settles; returns it. */
export function timeAside<T>(work: Promise<T>): Promise<T> {
  const settled = work.then(() => undefined, () => undefined);
  timedAside.add(settled);
  void settled.then(() => timedAside.delete(settled));
  return work;
}

/** Resolves once no work is timed aside (whether it succeeded or not). */
export async function asideSettled(): Promise<void> {
  while (timedAside.size > 0) await Promise.all(timedAside);
}

export async function openSession(model: SessionModel, settings: SessionSettings, label: string): Promise<ort.InferenceSession> {
  await asideSettled();
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: settings.level,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 4, // fatal only: ORT's errors reach the user once, wrapped (ortLoadError, ortRunError)
  };
  if (settings.threads > 0) options.intraOpNumThreads = settings.threads;
  if (settings.optimizedPath) options.optimizedModelFilePath = settings.optimizedPath;
  if (settings.profilePrefix) {
    options.enableProfiling = true;
    options.profileFilePrefix = settings.profilePrefix;
  }
  if (settings.lowMemory) {
    options.enableCpuMemArena = false;
    options.enableMemPattern = false;
  }
  const config: Record<string, unknown> = {};
  if (settings.spin === false) config.intra_op = { allow_spinning: '0' };
  if (settings.optimizedPath && settings.structureOnly) {
    config.optimized_model_external_initializers_file_name = basename(optimizedWeightsPath(settings.optimizedPath));
    config.optimized_model_external_initializers_min_size_in_bytes = String(OPTIMIZED_APART_BYTES);
  }
  if (Object.keys(config).length > 0) options.extra = { session: config };
  let session: ort.InferenceSession;
  try {
    if (typeof model === 'string') session = await ort.InferenceSession.create(model, options);
    else if (model instanceof Uint8Array) session = await ort.InferenceSession.create(model, options);
    else session = await ort.InferenceSession.create(model.graph, { ...options, externalData: model.external });
  } catch (err) {
    throw ortLoadError(label, err);
  }
  sessionLabels.set(session, label);
  return session;
}

/** The file each open session runs, to name it when a run fails. */
const sessionLabels = new WeakMap<ort.InferenceSession, string>();

/** ORT's message without the C++ source locations and function signatures it carries. */
function ortText(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return text.replace(/\S+\.(?:h|cc|cpp):\d+ [^(]*\((?:[^()]|\([^()]*\))*\)\s*/g, '');
}

/** What Octet can tell from ORT's text: the cause in one line and what to do; null when it cannot tell. */
function loadCause(text: string): string | null {
  const opset = /Opset (\d+) is under development/.exec(text);
  if (opset) {
    const supported = /support for domain (\S+) is till opset (\d+)/.exec(text);
    const upTo = supported ? ` (it runs ${supported[1]} up to opset ${supported[2]})` : '';
    return `the model is stamped with opset ${opset[1]}, newer than this ONNX Runtime ${ortVersion()} supports${upTo}; `
      + `re-export it with an older opset (e.g. torch.onnx.export(..., opset_version=17))`;
  }
  const ir = /Unsupported model IR version: (\d+), max supported IR version: (\d+)/.exec(text);
  if (ir) return `the model's IR version ${ir[1]} is newer than this ONNX Runtime reads (up to ${ir[2]}); re-export it with an older onnx package`;
  const kernel = /Could not find an implementation for (\S+)\((\d+)\) node with name '([^']*)'/.exec(text);
  if (kernel) {
    return `node '${kernel[3]}' (${kernel[1]}, opset ${kernel[2]}) has no ONNX Runtime CPU kernel for its input types; `
      + 'export that op with other types (usually float32) or replace it';
  }
  const unknown = /No Op registered for (\S+) with domain_version of (\d+)/.exec(text) ?? /(\S+)\((-?\d+)\) is not a registered function\/op/.exec(text);
  if (unknown) return `op ${unknown[1]} (opset ${unknown[2]}) is not an op ONNX Runtime knows (a custom op, or a typo in the export); Octet quantizes models ONNX Runtime can run`;
  const inference = /Node \(([^)]*)\) Op \(([^)]*)\) \[(ShapeInferenceError|TypeInferenceError)\]/.exec(text);
  if (inference) return `shape or type inference fails at node '${inference[1]}' (${inference[2]}); the model is inconsistent — check it with onnx.checker.check_model(model, full_check=True)`;
  if (/protobuf parsing failed/i.test(text)) return 'the file is not a readable ONNX protobuf (truncated or another file type)';
  return null;
}

/** One OctetError for a model ORT refuses: Octet's one-line cause and what to do first (when known), then ORT's text. */
export function ortLoadError(label: string, err: unknown): OctetError {
  const text = ortText(err);
  const cause = loadCause(text);
  return new OctetError(label, cause
    ? `ONNX Runtime cannot load this model: ${cause}. ONNX Runtime says: ${text}`
    : `ONNX Runtime cannot load this model; check that it loads in onnxruntime and passes onnx.checker.check_model. ONNX Runtime says: ${text}`);
}

export type FloatOutputs = Record<string, ort.Tensor>;

export async function runFloat(session: ort.InferenceSession, inputName: string, data: Float32Array, shape: number[],
  outputNames?: readonly string[], otherInputs: Record<string, ort.Tensor> = {}): Promise<FloatOutputs> {
  const feeds = { ...otherInputs, [inputName]: new ort.Tensor('float32', data, shape) };
  try {
    return await (outputNames ? session.run(feeds, outputNames) : session.run(feeds));
  } catch (err) {
    throw ortRunError(sessionLabels.get(session) ?? 'ONNX Runtime', err, shape);
  }
}

/** A run ORT refuses on the data (the model's problem, e.g. a graph that fixes the batch its input leaves free). */
function ortRunError(label: string, err: unknown, shape: readonly number[]): OctetError {
  const text = ortText(err);
  const failing = /running (\S+) node\. Name:'([^']*)'/.exec(text);
  const where = failing ? `node '${failing[2]}' (${failing[1]})` : 'the model';
  const batchHint = shape[0] > 1 && /shape|dimension|broadcast|reshape/i.test(text)
    ? `; its input leaves the batch free but the graph seems to fix it — re-export the model with batch 1 in its input shape, or with a dynamic batch throughout`
    : '';
  return new OctetError(label, `ONNX Runtime fails running ${where} on input shape [${shape.join(',')}]${batchHint}. ONNX Runtime says: ${text}`);
}

/** A name for files a session writes in a work folder, unique to one call: `kind-time-random`. */
export function workFileTag(kind: string): string {
  return `${kind}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/**
 * The graph ORT executes for `model` at level `all` (its fused and int8 kernels by node), read back structure only:
 * ORT writes it in `workDir` with its weights apart, both files removed once read.
 */
export async function executedGraph(model: Uint8Array | string, workDir: string, label: string): Promise<ModelProto> {
  const optimizedPath = join(workDir, `${workFileTag('executed')}.onnx`);
  const session = await openSession(model, { threads: 1, level: 'all', optimizedPath, structureOnly: true }, label);
  await session.release();
  try {
    return parseModel(readModelBytes(optimizedPath), optimizedPath);
  } finally {
    removeOptimized(optimizedPath);
  }
}

/** Op-type histogram of the graph ORT executes for `model` at level `all` (QLinearConv, QGemm, ...). */
export async function runtimeOpHistogram(model: Uint8Array | string, workDir: string, label: string): Promise<Record<string, number>> {
  const histogram: Record<string, number> = {};
  for (const node of (await executedGraph(model, workDir, label)).graph?.node ?? []) {
    const op = node.op_type ?? '?';
    histogram[op] = (histogram[op] ?? 0) + 1;
  }
  return histogram;
}
