// onnxruntime-node behind a few functions: open a session with clear errors, run float inputs, read the op
// histogram of what ORT actually executes (its optimized graph), and the library version.
import * as ort from 'onnxruntime-node';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OctetError } from '../../common/errors';
import { parseModel } from '../../onnx/model-io';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionSettings {
  /** Intra-op threads; 0 = ORT default (all cores). */
  threads: number;
  level: OptimizationLevel;
  /** Where ORT writes the graph it optimized (to read back what runs). */
  optimizedPath?: string;
  /**
   * Calibration-style sessions expose every intermediate tensor as an output; without ORT's arena those buffers are
   * freed after each run instead of being kept as the arena's high-water mark.
   */
  lowMemory?: boolean;
  /** Turns ORT's profiler on: it writes PREFIX_<date>.json when the session's endProfiling() is called. */
  profilePrefix?: string;
}

export function ortVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}

export async function openSession(model: Uint8Array | string, settings: SessionSettings, label: string): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: settings.level,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
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
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model, options);
  } catch (err) {
    const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
    throw new OctetError(label, `ONNX Runtime cannot load this model: ${detail}`);
  }
}

export type FloatOutputs = Record<string, ort.Tensor>;

export async function runFloat(session: ort.InferenceSession, inputName: string, data: Float32Array, shape: number[],
  outputNames?: readonly string[]): Promise<FloatOutputs> {
  const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };
  return outputNames ? session.run(feeds, outputNames) : session.run(feeds);
}

/** Op-type histogram of the graph ORT executes for `model` at level `all` (QLinearConv, QGemm, ...). */
export async function runtimeOpHistogram(model: Uint8Array | string, workDir: string, label: string): Promise<Record<string, number>> {
  const optimizedPath = join(workDir, `runtime-${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
  const session = await openSession(model, { threads: 1, level: 'all', optimizedPath }, label);
  await session.release();
  try {
    const optimized = parseModel(readFileSync(optimizedPath), optimizedPath);
    const histogram: Record<string, number> = {};
    for (const node of optimized.graph?.node ?? []) {
      const op = node.op_type ?? '?';
      histogram[op] = (histogram[op] ?? 0) + 1;
    }
    return histogram;
  } finally {
    rmSync(optimizedPath, { force: true });
  }
}
