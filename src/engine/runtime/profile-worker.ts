// Entry of the profiling thread (bundled to dist/profile-worker.js; the main thread's side is profile-aside.ts): one
// job, recordProfile on a model and feeds sent as plain data; the files it wrote are read back on the main thread.
import * as ort from 'onnxruntime-node';
import { serveJobs } from '../../common/workers';
import { recordProfile, ProfileFiles } from './profile';
import type { ProfileJob } from './profile-aside';

serveJobs<ProfileJob, ProfileFiles>(async ({ model, feeds, options, workDir, label }) => {
  const tensors = Object.fromEntries(feeds.map((f) => [f.name, new ort.Tensor(f.type, f.data, f.dims)]));
  return { result: await recordProfile(model, tensors, options, workDir, label) };
});
