#!/usr/bin/env node
// Graph viewer benchmark (not part of npm test): builds the webview bundle, then in headless Chromium measures
//   - ResNet-50: first paint after the editor opens, layout time, webview JS heap and renderer memory;
//   - a generated 10,000-node model: time to usable, layout time, frame times while zooming and panning.
// Usage: node scripts/bench-graph.mjs [--runs N] [--nodes N] [--no-build]
// ResNet-50 comes from .cache/resnet50.onnx; it is built with ../shared/scripts/make-resnet50.sh when missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const runs = value('--runs', 5);
const nodes = value('--nodes', 10_000);

if (!args.includes('--no-build')) execFileSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
const esbuild = await import('esbuild');
mkdirSync('.cache', { recursive: true });
const bundle = join(root, '.cache', 'bench-graph.cjs');
await esbuild.build({
  entryPoints: ['test/graph/support/benchGraph.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  outfile: bundle, external: ['playwright-core', 'vscode'], loader: { '.proto': 'text' }, logLevel: 'warning',
});

let resnetPath = join(root, '.cache', 'resnet50.onnx');
const maker = resolve(root, '..', 'shared', 'scripts', 'make-resnet50.sh');
if (!existsSync(resnetPath) && existsSync(maker)) {
  console.log('building .cache/resnet50.onnx (about 20 s)...');
  try {
    execFileSync(maker, [resnetPath], { stdio: 'inherit' });
  } catch {
    console.log('could not build ResNet-50; its figures are skipped');
  }
}
if (!existsSync(resnetPath)) resnetPath = undefined;

const { runGraphBench } = createRequire(import.meta.url)(bundle);
console.log(`Octet graph viewer benchmark (headless Chromium, ${runs} runs)`);
await runGraphBench({ resnetPath, runs, largeNodes: nodes, log: (line) => console.log(line) });
