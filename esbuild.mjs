// Bundles everything Octet ships or tests:
//   dist/engine.js     engine + CLI (`octet`), run headless or as the extension's child process
//   dist/*-worker.js   worker threads the engine starts (src/common/workers.ts finds them beside or above a bundle)
//   dist/demo.js       `npm run demo`: quantize the bundled default and print what was gained
//   dist/extension.js  the VS Code extension (CommonJS, `vscode` external)
//   dist/media/*.js    webview front ends
//   dist/test/*.js     node:test suites (unit + engine tests)
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const nativeExternals = ['onnxruntime-node'];

// `import script from 'octet:report-page'` (src/report/html.ts): src/report/html-page.ts bundled with Chart.js for the
// browser, as a string the HTML report inlines, so neither the page nor the engine needs node_modules at run time.
// Built once per run and shared by every bundle that imports it (rebuilt on change under --watch).
let reportPageBuild = null;
const reportPagePlugin = {
  name: 'octet-report-page',
  setup(build) {
    build.onResolve({ filter: /^octet:report-page$/ }, (args) => ({ path: args.path, namespace: 'octet-report-page' }));
    build.onLoad({ filter: /.*/, namespace: 'octet-report-page' }, async () => {
      if (!reportPageBuild || watch) {
        reportPageBuild = esbuild.build({
          entryPoints: ['src/report/html-page.ts'], bundle: true, write: false, minify: true, format: 'iife',
          platform: 'browser', target: 'es2020', legalComments: 'eof', metafile: true, logLevel: 'warning',
        });
      }
      const result = await reportPageBuild;
      return { contents: result.outputFiles[0].text, loader: 'text', watchFiles: Object.keys(result.metafile.inputs).map((p) => resolve(p)) };
    });
  },
};

// `import bytes from './x.wat'`: the WebAssembly text assembled by wabt at build time, embedded as its bytes (the
// kernels of src/quant/solve-kernels.wat), so that no binary is checked in and none is made at run time.
const watPlugin = {
  name: 'octet-wat',
  setup(build) {
    build.onLoad({ filter: /\.wat$/ }, async (args) => {
      const wabt = await (await import('wabt')).default();
      const module = wabt.parseWat(args.path, readFileSync(args.path, 'utf8'), { simd: true });
      try {
        module.validate();
        return { contents: new Uint8Array(module.toBinary({}).buffer), loader: 'binary' };
      } finally {
        module.destroy();
      }
    });
  },
};

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  loader: { '.proto': 'text', '.wasm': 'binary' },
  plugins: [reportPagePlugin, watPlugin],
};

function listFiles(dir, pattern) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, pattern));
    else if (pattern.test(name)) out.push(full);
  }
  return out;
}

const builds = [
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/engine.js', platform: 'node', format: 'cjs',
    target: 'node20', external: nativeExternals, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['src/demo/main.ts'], outfile: 'dist/demo.js', platform: 'node', format: 'cjs',
    target: 'node20', external: nativeExternals },
  { ...common, entryPoints: { 'decode-worker': 'src/data/decode-worker.ts', 'reduce-worker': 'src/quant/reduce-worker.ts', 'round-worker': 'src/quant/round-worker.ts' },
    outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: { 'profile-worker': 'src/engine/runtime/profile-worker.ts' }, outdir: 'dist', platform: 'node', format: 'cjs',
    target: 'node20', external: nativeExternals },
];
if (existsSync('src/extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node',
    format: 'cjs', target: 'node20', external: ['vscode', ...nativeExternals] });
}
const mediaEntries = listFiles('media', /\.main\.ts$/);
if (mediaEntries.length > 0) {
  builds.push({ ...common, entryPoints: mediaEntries, outdir: 'dist/media', outbase: 'media', platform: 'browser', format: 'iife',
    target: 'es2022' });
}
const testEntries = listFiles('test', /\.test\.ts$/);
if (testEntries.length > 0) {
  builds.push({ ...common, entryPoints: testEntries, outdir: 'dist/test', outbase: 'test', platform: 'node',
    format: 'cjs', target: 'node20', external: ['vscode', 'playwright-core', ...nativeExternals] });
}

// VS Code tests (not node:test files, so outside dist/test): the in-host suite run by code-server or
// @vscode/test-electron (dist/vscode/suite.vscode.js) and the drivers of scripts/e2e (dist/e2e/*.e2e.js).
const vscodeTestEntries = [...listFiles('test/vscode', /\.vscode\.ts$/), ...listFiles('test/e2e', /\.e2e\.ts$/)];
if (vscodeTestEntries.length > 0) {
  builds.push({ ...common, entryPoints: vscodeTestEntries, outdir: 'dist', outbase: 'test', platform: 'node', format: 'cjs',
    target: 'node20', external: ['vscode', 'playwright-core', '@vscode/test-electron', ...nativeExternals] });
}

rmSync('dist/test', { recursive: true, force: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
