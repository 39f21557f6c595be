// In-host tests: run inside a real VS Code extension host (code-server via scripts/e2e/run-e2e.sh, or desktop VS Code
// via @vscode/test-electron), against the real engine (dist/engine.js) and a real model. No mocks.
// The workspace (made by the harness) holds: resnet20.onnx, corrupt.onnx (truncated), calib/<class>/*.jpg, empty-calib/.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_SCHEMA_VERSION, type Report } from '../../src/common/report';
import type { EngineProgressEvent } from '../../src/engine/events';
import { findEngineTempFiles } from '../../src/extension/quantize/output-cleanup';
import { preprocessFilePath } from '../../src/extension/quantize/quantize-request';
import type { QuantizeCommandOptions, QuantizeOutcome } from '../../src/extension/quantize/quantize-runner';

const EXTENSION_ID = 'octet.octet';

interface TestCase { name: string; timeoutMs: number; fn: () => Promise<void> }
interface TestResult { name: string; ok: boolean; ms: number; error?: string }

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the in-host tests need a workspace folder (made by scripts/e2e/run-e2e.sh)');
  return folder.uri.fsPath;
}

function quantize(model: string, options: QuantizeCommandOptions): Thenable<QuantizeOutcome> {
  return vscode.commands.executeCommand<QuantizeOutcome>('octet.quantize', vscode.Uri.file(model), options);
}

function reportTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('octet.report'));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` (the tab model reaches the extension host asynchronously). */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** Settings for a quick run on the small CIFAR-10 ResNet-20. */
function quickOptions(ws: string, extra: QuantizeCommandOptions = {}): QuantizeCommandOptions {
  return {
    calib: join(ws, 'calib'), preprocess: 'torch', method: 'minmax', calibCount: 32, calibBatch: 8,
    evalCount: 80, benchmark: true, ...extra,
  };
}

const tests: TestCase[] = [
  {
    name: 'the extension activates and registers its commands',
    timeoutMs: 30_000,
    fn: async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
      await extension.activate();
      const commands = await vscode.commands.getCommands(true);
      for (const id of ['octet.quantize', 'octet.openReport', 'octet.exportReport']) assert.ok(commands.includes(id), `${id} not registered`);
      assert.ok(existsSync(join(extension.extensionPath, 'dist', 'engine.js')), 'dist/engine.js is missing: build the engine first');
    },
  },
  {
    name: 'quantize (options given, no prompts) writes the INT8 model and Report, and opens the report panel',
    timeoutMs: 300_000,
    fn: async () => {
      const ws = workspaceDir();
      const model = join(ws, 'resnet20.onnx');
      const stages = new Set<string>();
      const outcome = await quantize(model, quickOptions(ws, { onProgress: (e: EngineProgressEvent) => stages.add(e.stage) }));
      assert.equal(outcome.status, 'done', `outcome: ${JSON.stringify(outcome)}`);
      if (outcome.status !== 'done') return;
      assert.equal(outcome.model, join(ws, 'resnet20.int8.onnx'));
      assert.equal(outcome.report, join(ws, 'resnet20.int8.report.json'));
      assert.ok(statSync(outcome.model).size > 0 && statSync(outcome.model).size < statSync(model).size, 'INT8 model should be smaller than FP32');
      const report = JSON.parse(readFileSync(outcome.report, 'utf8')) as Report;
      assert.equal(report.schemaVersion, REPORT_SCHEMA_VERSION);
      assert.ok(report.accuracy, 'report has no accuracy');
      assert.equal(report.accuracy.labelled, true, 'class subfolders should make the run labelled');
      assert.ok(report.accuracy.int8 && report.accuracy.int8.top1 > 0.3, `INT8 top-1 suspiciously low: ${report.accuracy.int8?.top1}`);
      assert.ok(report.bench.length > 0 && report.bench.every((b) => b.speedup > 0), 'no benchmark results');
      assert.ok(report.layers.length > 0, 'no per-layer errors');
      assert.ok(stages.has('calibrate'), `progress stages seen: ${[...stages].join(', ')}`);
      assert.equal(outcome.panelOpened, true);
      assert.ok(await eventually(() => reportTabs().length >= 1, 5000), 'no report panel tab is open');
      assert.deepEqual(findEngineTempFiles([outcome.model, outcome.report]), []);
    },
  },
  {
    name: 'a custom preprocessing is written beside the report as a spec file, passed to the engine and recorded in the Report',
    timeoutMs: 300_000,
    fn: async () => {
      const ws = workspaceDir();
      const out = join(ws, 'custom.int8.onnx');
      const reportPath = join(ws, 'custom.int8.report.json');
      const preprocessing = { channelOrder: 'bgr' as const, mean: [104, 117, 124], std: [58, 57, 57], fit: 'stretch' as const };
      const outcome = await quantize(join(ws, 'resnet20.onnx'), quickOptions(ws, { out, report: reportPath, preprocessing, openReport: false, benchmark: false }));
      assert.equal(outcome.status, 'done', `outcome: ${JSON.stringify(outcome)}`);
      const spec = join(ws, 'custom.int8.preprocess.json');
      assert.equal(preprocessFilePath(reportPath), spec);
      const written = JSON.parse(readFileSync(spec, 'utf8')) as { octetPreprocessing: number; inputs: Record<string, unknown> };
      assert.deepEqual(written, { octetPreprocessing: 1, inputs: { input: preprocessing } });
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
      const p = report.settings.preprocessing;
      assert.ok(p, 'the report records the preprocessing');
      assert.deepEqual([p.preset, p.channelOrder, p.mean, p.std, p.fit, p.size], ['custom', 'bgr', [104, 117, 124], [58, 57, 57], 'stretch', [32, 32]]);
      assert.match(p.reason, /custom\.int8\.preprocess\.json/);
    },
  },
  {
    name: 'Open Report and Export Markdown/JSON work on the written report',
    timeoutMs: 30_000,
    fn: async () => {
      const ws = workspaceDir();
      const reportUri = vscode.Uri.file(join(ws, 'resnet20.int8.report.json'));
      assert.equal(await vscode.commands.executeCommand<boolean>('octet.openReport', reportUri), true);
      const out = join(ws, 'exports');
      mkdirSync(out, { recursive: true });
      const md = await vscode.commands.executeCommand<vscode.Uri>('octet.exportReport', reportUri, 'markdown', vscode.Uri.file(join(out, 'report.md')));
      const text = readFileSync(md.fsPath, 'utf8');
      assert.match(text, /^# Octet INT8 report — resnet20\.onnx/);
      assert.match(text, /## Per-layer error/);
      const json = await vscode.commands.executeCommand<vscode.Uri>('octet.exportReport', reportUri, 'json', vscode.Uri.file(join(out, 'report.json')));
      const original = JSON.parse(readFileSync(reportUri.fsPath, 'utf8')) as Report;
      assert.deepEqual(JSON.parse(readFileSync(json.fsPath, 'utf8')), original);
    },
  },
  {
    name: 'cancel stops the engine within a second and leaves nothing behind',
    timeoutMs: 120_000,
    fn: async () => {
      const ws = workspaceDir();
      const outputModel = join(ws, 'cancelled.int8.onnx');
      const outputReport = join(ws, 'cancelled.int8.report.json');
      const source = new vscode.CancellationTokenSource();
      let cancelledAtStage = '';
      const outcome = await quantize(join(ws, 'resnet20.onnx'), quickOptions(ws, {
        out: outputModel, report: outputReport, calibCount: 80, calibBatch: 4, openReport: false, cancellation: source.token,
        onProgress: (e: EngineProgressEvent) => {
          if (!cancelledAtStage && e.stage !== 'optimize') {
            cancelledAtStage = e.stage;
            source.cancel();
          }
        },
      }));
      assert.equal(outcome.status, 'cancelled', `outcome: ${JSON.stringify(outcome)} (cancel requested at stage '${cancelledAtStage}')`);
      if (outcome.status !== 'cancelled') return;
      assert.ok(outcome.cancelToExitMs < 1000, `engine took ${outcome.cancelToExitMs} ms to exit after cancel`);
      assert.ok(outcome.enginePid !== undefined && !isAlive(outcome.enginePid), `engine pid ${outcome.enginePid} is still alive`);
      assert.equal(existsSync(outputModel), false, 'cancelled run left the INT8 model');
      assert.equal(existsSync(outputReport), false, 'cancelled run left the report');
      assert.deepEqual(findEngineTempFiles([outputModel, outputReport]), [], 'cancelled run left temp files');
    },
  },
  {
    name: 'a corrupt .onnx fails with an error that names the file',
    timeoutMs: 30_000,
    fn: async () => {
      const ws = workspaceDir();
      const corrupt = join(ws, 'corrupt.onnx');
      const outcome = await quantize(corrupt, quickOptions(ws, { openReport: false }));
      assert.equal(outcome.status, 'failed', `outcome: ${JSON.stringify(outcome)}`);
      if (outcome.status !== 'failed') return;
      assert.ok(outcome.message.includes(corrupt), `message does not name the file: ${outcome.message}`);
      assert.match(outcome.message, /corrupt|truncated|not (a valid )?an? ONNX/i);
      assert.equal(existsSync(join(ws, 'corrupt.int8.onnx')), false);
    },
  },
  {
    name: 'an engine error (calibration folder without images) is reported, nothing is written',
    timeoutMs: 60_000,
    fn: async () => {
      const ws = workspaceDir();
      const outputModel = join(ws, 'nocalib.int8.onnx');
      const outputReport = join(ws, 'nocalib.int8.report.json');
      const outcome = await quantize(join(ws, 'resnet20.onnx'), quickOptions(ws, {
        calib: join(ws, 'empty-calib'), out: outputModel, report: outputReport, openReport: false,
      }));
      assert.equal(outcome.status, 'failed', `outcome: ${JSON.stringify(outcome)}`);
      if (outcome.status !== 'failed') return;
      assert.ok(outcome.enginePid !== undefined, 'the error should come from the engine process');
      assert.ok(outcome.message.length > 20, `message too short to help: ${outcome.message}`);
      assert.equal(existsSync(outputModel), false);
      assert.equal(existsSync(outputReport), false);
    },
  },
];

async function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Entry point called by the test host (`extensionTestsPath`). Throws when a test failed. */
export async function run(): Promise<void> {
  const results: TestResult[] = [];
  const only = process.env.OCTET_VSCODE_TEST_FILTER;
  for (const test of tests) {
    if (only && !test.name.includes(only)) continue;
    const started = Date.now();
    try {
      await withTimeout(test.fn(), test.timeoutMs, test.name);
      results.push({ name: test.name, ok: true, ms: Date.now() - started });
      console.log(`ok - ${test.name} (${Date.now() - started} ms)`);
    } catch (err) {
      const error = err instanceof Error ? err.stack ?? err.message : String(err);
      results.push({ name: test.name, ok: false, ms: Date.now() - started, error });
      console.log(`not ok - ${test.name}: ${error}`);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  const summary = `in-host: ${results.length - failed} passed, ${failed} failed`;
  console.log(summary);
  try {
    const dir = join(workspaceDir(), '.octet-e2e');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inhost-results.json'), `${JSON.stringify({ results, summary }, null, 2)}\n`);
  } catch (err) {
    console.log(`could not write results: ${String(err)}`);
  }
  if (failed > 0) throw new Error(summary);
}
