// Entry of the decoding threads (bundled to dist/decode-worker.js, see decode-pool.ts): each job is imageToTensor on
// bytes from the main thread; the sample's buffer moves back.
import { serveJobs } from '../common/workers';
import type { DecodedImage, DecodeJob } from './decode-pool';
import { imageToTensor } from './preprocess';

serveJobs<DecodeJob, DecodedImage>(({ bytes, name, input, preprocess }) => {
  const started = performance.now();
  const { data, shape, convertedToGrey } = imageToTensor(bytes, name, input, preprocess);
  return { result: { data, shape, convertedToGrey, seconds: (performance.now() - started) / 1000 }, transfer: [data.buffer as ArrayBuffer] };
});
