// `npm run bench`: the benchmark of record (docs/benchmarks.md). Octet with default settings against ONNX Runtime's
// quantization tool and NNCF on the shared models, Octet vs ORT's tool on the architecture zoo, and the detector's
// calibration memory; every INT8 model measured the same way by Octet's own `eval` and `bench`. Prints Markdown and
// writes it, with the raw results as JSON, into .cache/bench/. Failures are reported and the run goes on.
// Not part of `npm test`: figures, not assertions.
//   node scripts/bench.mjs [--only ID,...] [--quick] [--skip-peers] [--runs N] [--mem-cap-gb G] [--timeout-min M]
//                          [--extra-zoo DIR]
//   node scripts/bench.mjs --render .cache/bench/latest.json     (the tables again from a saved run, nothing measured)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureResnet50, makeDataFolders } from './bench/data.mjs';
import { compareMethods, detectorMemory } from './bench/items.mjs';
import { OctetRunner } from './bench/octet.mjs';
import { Peers } from './bench/peers.mjs';
import { QUICK_IDS, detectorRun, sharedModels, zooDir, zooModels } from './bench/suite.mjs';
import { renderMarkdown } from './bench/tables.mjs';

const HELP = `usage: npm run bench -- [options]
  --only ID,...      run these items only: mobilenet-v1, resnet50, resnet20, resnet32, any arch-zoo file stem
                     (e.g. squeezenet_op9), detector; or a group: shared, zoo
  --quick            ${QUICK_IDS.join(', ')} with 20 bench runs (development)
  --skip-peers       Octet only (no ONNX Runtime tool, no NNCF)
  --runs N           bench runs per comparison (default 50)
  --mem-cap-gb G     stop any child whose processes pass G GB resident (default 6; this machine is shared)
  --timeout-min M    stop any child after M minutes (default 30)
  --extra-zoo DIR    also run every .onnx in DIR as an arch-zoo model (e.g. the MobileNet-V2 that
                     scripts/bench/make-mobilenet-v2.py makes; ids are file stems)
  --render FILE      print the tables of a saved run (.cache/bench/*.json) without measuring`;

const { values } = parseArgs({
  args: process.argv.slice(2), strict: true,
  options: { only: { type: 'string' }, quick: { type: 'boolean' }, 'skip-peers': { type: 'boolean' }, runs: { type: 'string' },
    'mem-cap-gb': { type: 'string' }, 'timeout-min': { type: 'string' }, render: { type: 'string' }, 'extra-zoo': { type: 'string' },
    help: { type: 'boolean' } },
});
if (values.help) { console.log(HELP); process.exit(0); }
if (values.render) { console.log(renderMarkdown(JSON.parse(readFileSync(values.render, 'utf8')))); process.exit(0); }

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '../shared');
const cache = resolve(root, '.cache');
const outDir = join(cache, 'bench');
if (!existsSync(join(shared, 'assets'))) {
  console.error('bench: ../shared/assets not found; the benchmark needs the shared models and images (see ../shared/README.md).');
  process.exit(1);
}
if (!existsSync(join(root, 'dist/engine.js'))) {
  console.error('bench: dist/engine.js not found; run `npm run bench` (it builds first) or `node esbuild.mjs`.');
  process.exit(1);
}

const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : values.quick ? QUICK_IDS : null;
const runs = Number(values.runs ?? (values.quick ? 20 : 50));
const limits = { memCapMb: Number(values['mem-cap-gb'] ?? 6) * 1024, timeoutS: Number(values['timeout-min'] ?? 30) * 60 };
const wanted = (id, group) => !only || only.includes(id) || only.includes(group);
const badNumber = [['--runs', runs], ['--mem-cap-gb', limits.memCapMb], ['--timeout-min', limits.timeoutS]].find(([, v]) => !(v > 0));
if (badNumber) { console.error(`bench: ${badNumber[0]} must be a positive number\n${HELP}`); process.exit(2); }
const extraZoo = values['extra-zoo'] ? resolve(values['extra-zoo']) : null;
if (extraZoo && zooModels(extraZoo).length === 0) { console.error(`bench: --extra-zoo ${extraZoo}: no .onnx file there`); process.exit(2); }
const zooItems = [...zooModels(zooDir(shared)), ...(extraZoo ? zooModels(extraZoo) : [])];
const known = new Set(['shared', 'zoo', 'detector', ...sharedModels(shared, null).map((m) => m.id), ...zooItems.map((m) => m.id)]);
const unknown = (only ?? []).filter((id) => !known.has(id));
if (unknown.length) { console.error(`bench: unknown --only item(s) ${unknown.join(', ')}\n${HELP}`); process.exit(2); }

const started = Date.now();
const loadAtStart = loadavg()[0];
mkdirSync(outDir, { recursive: true });
const data = makeDataFolders(shared, join(outDir, 'data'));
const sharedItems = sharedModels(shared, null).filter((m) => wanted(m.id, 'shared'));
if (sharedItems.some((m) => m.id === 'resnet50')) {
  const built = await ensureResnet50(shared, cache);
  const r50 = sharedItems.find((m) => m.id === 'resnet50');
  r50.model = built.path;
  r50.missing = built.error;
}
const zoo = zooItems.filter((m) => wanted(m.id, 'zoo'));
const detector = wanted('detector', 'detector') ? detectorRun(shared) : null;

const octet = new OctetRunner(root, limits, runs);
const peers = await Peers.find(shared, { skip: values['skip-peers'], limits });
console.error(`bench: peers: onnxruntime ${peers.available.ort ?? '—'}, nncf ${peers.available.nncf ?? '—'}${peers.note ? ` (${peers.note})` : ''}`);
const ctx = { octet, peers, data, runs, limits, workRoot: join(outDir, 'work') };

const results = { shared: [], zoo: [], detector: null };
for (const item of sharedItems) results.shared.push(await compareMethods(ctx, item, 'shared', { withNncf: true, benchAllPeers: true, throughput: true }));
for (const item of zoo) results.zoo.push(await compareMethods(ctx, item, 'zoo', { withNncf: false, benchAllPeers: false, throughput: false }));
if (detector) results.detector = await detectorMemory(ctx, detector);

const reports = [...results.shared, ...results.zoo].flatMap((r) => r.methods ?? []).map((m) => m.quantize?.report).filter(Boolean);
const saved = { startedAt: new Date(started).toISOString(), minutes: (Date.now() - started) / 60000, loadAtStart, loadAtEnd: loadavg()[0],
  machine: reports[0]?.machine ?? null, peers: { available: peers.available, note: peers.note, python: peers.python }, runs, only, data, results };
const md = renderMarkdown(saved);
const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
const json = JSON.stringify(saved, null, 1);
for (const name of [`bench-${stamp}`, 'latest']) {
  writeFileSync(join(outDir, `${name}.md`), md + '\n');
  writeFileSync(join(outDir, `${name}.json`), json + '\n');
}
console.log(md);
console.error(`bench: wrote ${join(outDir, 'latest.md')} and latest.json (and bench-${stamp}.*)`);
