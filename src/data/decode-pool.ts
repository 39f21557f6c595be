// Image decoding and preprocessing on worker threads (dist/decode-worker.js): the same pure function as on this thread
// (imageToTensor: encoded bytes, file name, input spec, preprocessing -> one sample), run on every core and beside ONNX
// Runtime, which blocks the main thread while it runs. The encoded bytes move to the worker and the sample moves back
// (no copies). One pool per process, started on first use; its idle workers never keep the process alive.
import { OctetError } from '../common/errors';
import { defaultWorkerCount, WorkerPool, workerScript } from '../common/workers';
import type { InputSpec } from './dataset';
import { ImageTooLargeError } from './image-decode';
import type { Preprocessing } from '../common/report';

/** What the worker gets: everything imageToTensor takes, as plain data (preprocessing is passed through unread). */
export interface DecodeJob {
  bytes: Uint8Array;
  name: string;
  input: InputSpec;
  preprocess: Preprocessing;
}

export interface DecodedImage {
  data: Float32Array;
  /** The sample's shape, no batch dim. */
  shape: number[];
  convertedToGrey: boolean;
  /** Time the decoding thread spent on it. */
  seconds: number;
}

/** The script esbuild.mjs bundles from src/data/decode-worker.ts. */
export const DECODE_WORKER = 'decode-worker';
/**
 * Images posted ahead to each worker: decoding goes on while ONNX Runtime or a conversion holds the main thread, which
 * posts the next images only when it is free (a run of ResNet-50 over a batch holds it ~0.3 s; an image decodes in
 * ~16 ms). With 4, MobileNet-V1's decoding threads sat idle most of the time before and between runs, and its
 * calibration took 0.4 s longer (2.85 vs 2.47 s, 4 runs each, the same samples).
 */
export const JOBS_AHEAD = 16;

let shared: WorkerPool<DecodeJob, DecodedImage> | null = null;
let workerCount = defaultWorkerCount();

function pool(): WorkerPool<DecodeJob, DecodedImage> {
  shared ??= new WorkerPool<DecodeJob, DecodedImage>({
    script: workerScript(DECODE_WORKER), size: workerCount, depth: JOBS_AHEAD,
    crashError: (job, cause) => new OctetError(job.name, `cannot decode image: the decoding thread died on it (${cause})`),
  });
  return shared;
}

/** Decoding threads of this process (the next pool's, when set before first use or after closeDecodePool). */
export function decodeWorkers(): number {
  return shared?.size ?? workerCount;
}

/** Sets how many decoding threads the pool starts (tests; takes effect after closeDecodePool). */
export function setDecodeWorkers(count: number): void {
  workerCount = Math.max(1, Math.floor(count));
}

/**
 * imageToTensor on a decoding thread: same result, same errors (OctetErrors naming `name`; ImageTooLargeError for an
 * image over the pixel budget). `bytes` is given away (its buffer moves to the worker when it owns it whole).
 * A decode still queued when `signal` aborts is dropped (AbortError).
 */
export async function decodeImageTensor(bytes: Uint8Array, name: string, input: InputSpec, preprocess: Preprocessing,
  signal?: AbortSignal): Promise<DecodedImage> {
  // A Buffer may be a slice of a shared pool: move only a buffer this view owns whole, else a copy.
  const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes : Uint8Array.from(bytes);
  try {
    return await pool().run({ bytes: owned, name, input, preprocess }, [owned.buffer as ArrayBuffer], signal);
  } catch (err) {
    // Revived as an OctetError with the same text; restore the class callers test for.
    if (err instanceof OctetError && err.name === 'ImageTooLargeError') Object.setPrototypeOf(err, ImageTooLargeError.prototype);
    throw err;
  }
}

/** Terminates the decoding threads (a later decode starts a new pool). */
export async function closeDecodePool(): Promise<void> {
  const closing = shared;
  shared = null;
  await closing?.close();
}
