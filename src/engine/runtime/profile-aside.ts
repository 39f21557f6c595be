// A per-kernel profile (recordProfile) run on a thread of its own while this thread goes on with JavaScript — the speed
// step's FP32 profile while the first INT8 conversion is built (ResNet-50: 0.8 s of single-threaded conversion with the
// second core idle, and a one-thread FP32 profile of about as long), its first INT8 profile while bias shifts are
// computed. onnxruntime-node runs a session on the thread that calls it, so a profile on this thread would wait for the
// conversion, and the conversion for it. The profile stays what it would be here: the thread it runs on has a core to
// itself (sessions this thread opens meanwhile wait for it: session.ts timeAside), and JavaScript on the other core
// leaves ORT's kernel times as they are (ResNet-50 at one thread: 71.0 ms per run alone and beside a thread quantizing
// 25 M floats over and over).
import type * as ort from 'onnxruntime-node';
import { OctetError } from '../../common/errors';
import { WorkerPool, workerScript } from '../../common/workers';
import type { SplitModel } from '../../onnx/proto';
import { KernelProfile, ProfileFiles, ProfileOptions, readProfile } from './profile';
import { timeAside } from './session';
import { CancelledError } from '../cancel';

/** The script esbuild.mjs bundles from src/engine/runtime/profile-worker.ts. */
export const PROFILE_WORKER = 'profile-worker';

/** A feed as plain data (an ort.Tensor does not cross threads). */
export interface PlainFeed { name: string; type: 'float32'; data: Float32Array; dims: number[] }

/** What the profiling thread gets: recordProfile's arguments as plain data, and the flag that stops it. */
export interface ProfileJob {
  model: SplitModel;
  feeds: PlainFeed[];
  options: Omit<ProfileOptions, 'signal'>;
  workDir: string;
  label: string;
  /** An Int32Array's buffer: set to 1 to stop the profile at its next run (see profileAside). */
  stop: SharedArrayBuffer;
}

/**
 * profileKernels on a profiling thread: the model and feeds are copied to it (the caller keeps its own). Sessions
 * this thread opens until it settles wait for it. When `options.signal` aborts, the profile stops before its next run
 * and rejects with CancelledError. The thread is never ended while ONNX Runtime runs on it: a worker terminated inside
 * a native call aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'"), so the stop
 * is a flag the thread reads between runs, and the process stays up (the job holds the worker) until it has.
 */
export function profileAside(model: SplitModel, feeds: Record<string, ort.Tensor>, options: ProfileOptions, workDir: string,
  label: string): Promise<KernelProfile> {
  // Copies, each in a buffer of its own that moves to the thread. (Not slice(): on a Node Buffer it is a view, and moving
  // its buffer would take the caller's bytes, or Node's pooled buffer, away.)
  const copy: SplitModel = { graph: new Uint8Array(model.graph), external: model.external.map((e) => ({ path: e.path, data: new Uint8Array(e.data) })) };
  const plainFeeds: PlainFeed[] = Object.entries(feeds).map(([name, t]) => {
    if (t.type !== 'float32') throw new OctetError(label, `profiling takes float32 inputs, got ${t.type} for '${name}'`);
    return { name, type: 'float32', data: new Float32Array(t.data as Float32Array), dims: [...t.dims] };
  });
  const transfer = [copy.graph, ...copy.external.map((e) => e.data), ...plainFeeds.map((f) => f.data)].map((a) => a.buffer as ArrayBuffer);
  const { signal, ...rest } = options;
  const stop = new SharedArrayBuffer(4);
  const requestStop = () => Atomics.store(new Int32Array(stop), 0, 1);
  if (signal?.aborted) requestStop();
  signal?.addEventListener('abort', requestStop, { once: true });
  const pool = new WorkerPool<ProfileJob, ProfileFiles>({
    script: workerScript(PROFILE_WORKER), size: 1,
    crashError: (job, cause) => new OctetError(job.label, `the profiling thread died (${cause})`),
  });
  const work = pool.run({ model: copy, feeds: plainFeeds, options: rest, workDir, label, stop }, transfer)
    .then((files) => readProfile(files, options.warmup), (err: unknown) => {
      throw signal?.aborted ? new CancelledError() : err;
    })
    .finally(() => {
      signal?.removeEventListener('abort', requestStop);
      // The job has settled: the thread is idle, ending it is safe.
      return pool.close();
    });
  return timeAside(work);
}

/** Reads the stop flag of a ProfileJob every few milliseconds between runs into `controller` (the thread's side). */
export function watchStop(stop: SharedArrayBuffer, controller: AbortController): () => void {
  const flag = new Int32Array(stop);
  const timer = setInterval(() => { if (Atomics.load(flag, 0) !== 0) controller.abort(); }, STOP_POLL_MS);
  return () => clearInterval(timer);
}

/** How often the profiling thread reads its stop flag (its runs yield to the event loop between them). */
const STOP_POLL_MS = 5;
