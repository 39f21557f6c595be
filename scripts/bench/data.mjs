// Models and data folders for the benchmark: explicit calibration and evaluation folders (hard links to the shared
// images plus a `labels.txt`), so Octet and every peer read exactly the same images, and ResNet-50 built once into
// .cache/. The split follows Octet's default selection (src/data/dataset.ts splitIndices: positions of a golden-ratio
// stride through the data set), so the calibration folder holds the images `octet quantize --calib SET` would pick.
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from './run.mjs';

/** Octet's sample order for a data set of `size` samples (its splitIndices, unsorted positions → indices). */
export function goldenOrder(size) {
  const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
  let stride = 1;
  if (size > 2) {
    const ideal = Math.round(size / 1.618033988749895);
    search: for (let delta = 0; delta < size; delta++) {
      for (const candidate of [ideal - delta, ideal + delta]) {
        if (candidate >= 1 && candidate < size && gcd(candidate, size) === 1) { stride = candidate; break search; }
      }
    }
  }
  return Array.from({ length: size }, (_, position) => (position * stride) % size);
}

/** The entries of an image set as Octet lists them: labels.txt order, or class subfolders in sorted order. */
function listImageSet(dir) {
  const labels = join(dir, 'labels.txt');
  if (existsSync(labels)) {
    return readFileSync(labels, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
      .map((l) => { const m = /^(.*\S)\s+(\d+)$/.exec(l); return { file: join(dir, m[1]), name: m[1], label: Number(m[2]) }; });
  }
  const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const classes = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(byName);
  return classes.flatMap((cls, label) => readdirSync(join(dir, cls)).sort(byName)
    .map((f) => ({ file: join(dir, cls, f), name: `${cls}__${f}`, label })));
}

/**
 * Writes folder `name` under `dataRoot` holding the images at positions [from, to) of Octet's order of `source`
 * (sorted by index, as Octet reads them): one hard link (or copy) per image and labels.txt. Rebuilt each run (cheap).
 */
function makeSubset(dataRoot, name, source, from, to) {
  const entries = listImageSet(source);
  const order = goldenOrder(entries.length);
  const end = Math.min(to, entries.length);
  const picked = order.slice(from, end).sort((a, b) => a - b).map((i) => entries[i]);
  const dir = join(dataRoot, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Hard links (a copy across file systems): Octet refuses labels entries that are symlinks out of the data folder.
  for (const e of picked) {
    try { linkSync(e.file, join(dir, e.name)); } catch { copyFileSync(e.file, join(dir, e.name)); }
  }
  writeFileSync(join(dir, 'labels.txt'), picked.map((e) => `${e.name} ${e.label}`).join('\n') + '\n');
  return { dir, count: picked.length, source, positions: [from, end] };
}

/** The benchmark's data folders (see docs/benchmarks.md): ImageNet 100 + rest, CIFAR 100 + 1900, zoo 64 + 64. */
export function makeDataFolders(shared, dataRoot) {
  const imagenet = join(shared, 'assets/images/imagenet-sample');
  const cifar = join(shared, 'assets/images/cifar10-test');
  return {
    imagenetCalib: makeSubset(dataRoot, 'imagenet-calib', imagenet, 0, 100),
    imagenetEval: makeSubset(dataRoot, 'imagenet-eval', imagenet, 100, Infinity),
    cifarCalib: makeSubset(dataRoot, 'cifar-calib', cifar, 0, 100),
    cifarEval: makeSubset(dataRoot, 'cifar-eval', cifar, 100, 2000),
    zooCalib: makeSubset(dataRoot, 'zoo-calib', imagenet, 0, 64),
    zooEval: makeSubset(dataRoot, 'zoo-eval', imagenet, 100, 164),
  };
}

/** .cache/resnet50.onnx, built by ../shared/scripts/make-resnet50.sh when missing; null + reason when that fails. */
export async function ensureResnet50(shared, cache) {
  const path = join(cache, 'resnet50.onnx');
  if (existsSync(path)) return { path, error: null };
  console.error('bench: building ResNet-50 with ../shared/scripts/make-resnet50.sh (once, cached in .cache/)');
  const r = await runChild('bash', [join(shared, 'scripts/make-resnet50.sh'), path], { timeoutS: 900 });
  return r.ok ? { path, error: null } : { path: null, error: `make-resnet50.sh failed: ${r.error}` };
}
