// Entry of the profiling thread (bundled to dist/profile-worker.js; the main thread's side is profile-aside.ts): one
// job, recordProfile on a model and feeds sent as plain data, stopped between runs by the job's flag; the files it wrote
// are read back on the main thread.
import * as ort from 'onnxruntime-node';
import { serveJobs } from '../../common/workers';
import { recordProfile, ProfileFiles } from './profile';
import { ProfileJob, watchStop } from './profile-aside';

serveJobs<ProfileJob, ProfileFiles>(async ({ model, feeds, options, workDir, label, stop }) => {
  const tensors = Object.fromEntries(feeds.map((f) => [f.name, new ort.Tensor(f.type, f.data, f.dims)]));
  const controller = new AbortController();
  const unwatch = watchStop(stop, controller);
  try {
    return { result: await recordProfile(model, tensors, { ...options, signal: controller.signal }, workDir, label) };
  } finally {
    unwatch();
  }
});
