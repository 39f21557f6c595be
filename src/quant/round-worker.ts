// Entry of the weight-rounding threads (bundled to dist/round-worker.js; the main thread's side is
// engine/accuracy/layer-rounding.ts): each job is one layer's roundLayer, a pure function of plain data, so the
// layers of a conversion are solved on every core at once. The chosen codes move back.
import { serveJobs } from '../common/workers';
import { roundJob, RoundedLayer, RoundLayerJob } from './weight-rounding';

serveJobs<RoundLayerJob, RoundedLayer & { seconds: number }>((job) => {
  const started = performance.now();
  const r = roundJob(job);
  return { result: { ...r, seconds: (performance.now() - started) / 1000 }, transfer: [r.codes.buffer as ArrayBuffer] };
});
