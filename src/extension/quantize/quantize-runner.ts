// The `octet.quantize` command: resolve the model, ask (or take) the settings, run the engine as a child process
// under a cancellable progress notification, then open the report — or explain what went wrong.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write';
import { describeModel, type ModelDescription } from '../../data/model-description';
import { formatPreprocessFile } from '../../data/preprocess-file';
import { fieldsOf, type PreprocessingFields } from '../../data/preprocessing';
import { readModelSummary } from '../../onnx/skim';
import type { ReportView } from '../../protocol/report';
import type { ReportPanels } from '../report/report-panels';
import type { EngineEvent, EngineProgressEvent } from '../../engine/events';
import { describeProgress, OverallProgress } from './engine-events';
import { EngineExit, EngineProcess } from './engine-process';
import { removePartialOutputs, snapshotOutputs } from './output-cleanup';
import { promptForRequest } from './quantize-prompts';
import { completeRequest, describeInvalidRequest, engineArguments, preprocessFilePath, RunRequest } from './quantize-request';
import { readQuantizeDefaults } from './settings';

/** Second argument of `octet.quantize`: given answers skip the prompts (tests, re-run, scripts). */
export interface QuantizeCommandOptions extends Partial<Omit<RunRequest, 'model'>> {
  /** Ask anyway, with the given answers pre-selected. */
  prompt?: boolean;
  /** Open the report panel when done (default true). */
  openReport?: boolean;
  /** Cancels like the notification's Cancel button. */
  cancellation?: vscode.CancellationToken;
  /** Called on each engine progress event. */
  onProgress?: (event: EngineProgressEvent, enginePid: number | undefined) => void;
}

export type QuantizeOutcome =
  | { status: 'done'; model: string; report: string; elapsedMs: number; panelOpened: boolean }
  | { status: 'cancelled'; enginePid: number | undefined; removed: string[]; cancelToExitMs: number }
  | { status: 'failed'; message: string; enginePid: number | undefined }
  | { status: 'dismissed' };

/** How a run ended, with the engine's process id (tests check it is gone after a cancel). */
type FinishedRun = EngineExit & { enginePid: number | undefined };

const CALIBRATION_KEY = 'octet.calibrationDir:';
const LABELS_KEY = 'octet.labelsFile:';
const LAST_CALIBRATION_KEY = 'octet.lastCalibrationDir';
const PREPROCESSING_KEY = 'octet.preprocessing:';

function isOptionsObject(value: unknown): value is QuantizeCommandOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof vscode.Uri);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The model the command is about: its argument, the active editor's file, or a file picked now. */
async function resolveModel(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const active = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  if (active && active.path.toLowerCase().endsWith('.onnx')) return active;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false, filters: { 'ONNX model': ['onnx'] }, title: 'Octet: FP32 ONNX model to quantize', openLabel: 'Quantize',
  });
  return picked?.[0];
}

export class QuantizeRunner implements vscode.Disposable {
  private readonly running = new Map<string, EngineProcess>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly panels: ReportPanels,
  ) {}

  dispose(): void {
    for (const engine of this.running.values()) void engine.cancel();
    this.running.clear();
  }

  /** Handler of `octet.quantize(modelUri?, options?)`. */
  async run(modelArg?: unknown, optionsArg?: unknown): Promise<QuantizeOutcome> {
    const options: QuantizeCommandOptions = isOptionsObject(optionsArg) ? optionsArg : {};
    const asked = !isOptionsObject(optionsArg) || options.prompt === true;
    const modelUri = await resolveModel(modelArg);
    if (!modelUri) return { status: 'dismissed' };
    if (modelUri.scheme !== 'file') return this.fail(`${modelUri.toString()}: Octet quantizes models on the local file system only.`);
    const modelPath = modelUri.fsPath;

    // The model's structure only (no weights): what its input is, and the preprocessing the engine would guess.
    let description: ModelDescription;
    try {
      description = describeModel(readModelSummary(modelPath), { label: modelPath });
    } catch (err) {
      return this.fail(errorText(err), modelUri);
    }
    if (!description.input || !description.guess) return this.fail(`${modelPath}: ${description.problem}`, modelUri);
    const request = asked ? await this.ask(modelPath, description, options) : this.fromOptions(modelPath, options);
    if (!request) return { status: 'dismissed' };
    if ('error' in request) return this.fail(request.error, modelUri);
    const invalid = describeInvalidRequest(request);
    if (invalid) return this.fail(invalid, modelUri);
    if (this.running.has(request.out)) {
      return this.fail(`${basename(modelPath)} is already being quantized to ${basename(request.out)}; wait for it or cancel it.`, modelUri);
    }
    await this.remember(request);
    let withSpec: RunRequest;
    try {
      withSpec = this.writePreprocessFile(request, description.input.name);
    } catch (err) {
      return this.fail(errorText(err), modelUri);
    }
    return this.execute(withSpec, options);
  }

  /** "Re-run with other settings" from a report: the prompts, with that run's answers pre-selected. */
  rerun(view: ReportView): void {
    const { report } = view;
    const labelsSource = report.calibration.dataset.labelsSource;
    const previous: QuantizeCommandOptions = {
      prompt: true,
      calib: report.calibration.dataset.path,
      labels: labelsSource && isAbsolute(labelsSource) && existsSync(labelsSource) ? labelsSource : null,
      method: report.settings.method,
      percentile: report.settings.percentile,
      perChannel: report.settings.perChannel,
      activations: report.settings.activations,
      calibCount: report.settings.calibCount,
      calibBatch: report.settings.calibBatch,
      preprocess: report.settings.preprocess === 'none' || report.settings.preprocess === 'custom' ? 'auto' : report.settings.preprocess,
      ...(report.settings.preprocessing ? { preprocessing: fieldsOf(report.settings.preprocessing) } : {}),
      evalCount: report.evaluation?.limit ?? report.accuracy?.n ?? 0,
      benchmark: report.bench.length > 0,
      out: view.int8ModelPath,
      report: view.reportPath,
    };
    void vscode.commands.executeCommand('octet.quantize', vscode.Uri.file(view.fp32ModelPath), previous);
  }

  private async ask(modelPath: string, description: ModelDescription, options: QuantizeCommandOptions): Promise<RunRequest | undefined> {
    const state = this.context.workspaceState;
    return promptForRequest({
      modelPath,
      input: description.input!,
      guess: description.guess!,
      rememberedPreprocessing: state.get<PreprocessingFields>(PREPROCESSING_KEY + modelPath),
      defaults: readQuantizeDefaults(vscode.Uri.file(modelPath)),
      rememberedCalibrationDir: state.get<string>(CALIBRATION_KEY + modelPath) ?? this.context.globalState.get<string>(LAST_CALIBRATION_KEY),
      rememberedLabelsFile: state.get<string>(LABELS_KEY + modelPath),
      previous: options,
    });
  }

  private fromOptions(modelPath: string, options: QuantizeCommandOptions): RunRequest | { error: string } {
    const calib = options.calib ?? this.context.workspaceState.get<string>(CALIBRATION_KEY + modelPath);
    if (!calib) return { error: `${modelPath}: no calibration image folder was given and none was used before for this model.` };
    return completeRequest(modelPath, calib, readQuantizeDefaults(vscode.Uri.file(modelPath)), options);
  }

  private async remember(request: RunRequest): Promise<void> {
    await this.context.workspaceState.update(CALIBRATION_KEY + request.model, request.calib);
    await this.context.workspaceState.update(LABELS_KEY + request.model, request.labels ?? undefined);
    await this.context.globalState.update(LAST_CALIBRATION_KEY, request.calib);
    if (request.preprocessing) await this.context.workspaceState.update(PREPROCESSING_KEY + request.model, request.preprocessing);
  }

  /** Writes the asked-for preprocessing beside the report, for the engine's --preprocess-file (and for people to read). */
  private writePreprocessFile(request: RunRequest, inputName: string): RunRequest {
    if (!request.preprocessing) return request;
    const path = preprocessFilePath(request.report);
    writeFileAtomic(path, [Buffer.from(formatPreprocessFile(inputName, request.preprocessing), 'utf8')]);
    this.log(`Preprocessing for input '${inputName}' written to ${path}`);
    return { ...request, preprocessFile: path };
  }

  private log(line: string): void {
    this.output.appendLine(`[${new Date().toLocaleTimeString()}] ${line}`);
  }

  private async execute(request: RunRequest, options: QuantizeCommandOptions): Promise<QuantizeOutcome> {
    const engineScript = this.context.asAbsolutePath('dist/engine.js');
    if (!existsSync(engineScript)) {
      return this.fail(`${engineScript}: the Octet engine is missing from the extension (run \`npm run build\`).`, vscode.Uri.file(request.model));
    }
    const args = engineArguments(request);
    const name = basename(request.model);
    this.log(`Quantizing ${request.model}`);
    this.log(`$ node ${engineScript} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    const snapshot = snapshotOutputs([request.out, request.report]);

    let cancelRequestedAt = 0;
    const exit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Octet: quantizing ${name}`, cancellable: true },
      async (progress, token): Promise<FinishedRun> => {
        const overall = new OverallProgress();
        let shownPercent = 0;
        let lastStage = '';
        const engine: EngineProcess = new EngineProcess({
          nodeExecutable: process.execPath,
          engineScript,
          args,
          cwd: this.context.extensionPath,
          onText: (line) => this.log(line),
          onEvent: (event: EngineEvent) => {
            if (event.type === 'log') this.log(event.message);
            else if (event.type === 'error') this.log(`ERROR ${event.subject}: ${event.message}`);
            else if (event.type === 'result') this.log(`Wrote ${event.model} and ${event.report}`);
            else {
              const percent = overall.update(event);
              progress.report({ increment: Math.max(0, percent - shownPercent), message: describeProgress(event) });
              shownPercent = Math.max(shownPercent, percent);
              if (event.stage !== lastStage) this.log(`Stage ${event.stage}${event.message ? `: ${event.message}` : ''}`);
              lastStage = event.stage;
              options.onProgress?.(event, engine.pid);
            }
          },
        });
        this.running.set(request.out, engine);
        const cancel = () => {
          if (!engine.running || cancelRequestedAt) return;
          cancelRequestedAt = Date.now();
          this.log(`Cancelling (SIGTERM to engine pid ${engine.pid})`);
          void engine.cancel();
        };
        const subscriptions = [token.onCancellationRequested(cancel), options.cancellation?.onCancellationRequested(cancel)];
        if (options.cancellation?.isCancellationRequested) cancel();
        try {
          return { ...(await engine.finished), enginePid: engine.pid };
        } finally {
          subscriptions.forEach((s) => s?.dispose());
          this.running.delete(request.out);
        }
      },
    );
    const { enginePid } = exit;
    this.log(`Engine exited (code ${exit.exitCode ?? '-'}${exit.signal ? `, signal ${exit.signal}` : ''}) after ${(exit.elapsedMs / 1000).toFixed(1)} s`);

    if (exit.cancelled) {
      const removed = removePartialOutputs(snapshot);
      const cancelToExitMs = Date.now() - cancelRequestedAt;
      this.log(`Cancelled; removed ${removed.length > 0 ? removed.join(', ') : 'nothing (no partial output)'}`);
      void vscode.window.showInformationMessage(`Octet: quantizing ${name} was cancelled; nothing was written.`);
      return { status: 'cancelled', enginePid, removed, cancelToExitMs };
    }
    if (exit.exitCode === 0 && !exit.error) {
      const model = exit.result?.model ?? request.out;
      const report = exit.result?.report ?? request.report;
      if (!existsSync(model) || !existsSync(report)) {
        removePartialOutputs(snapshot);
        return this.fail(`${request.model}: the engine finished but did not write ${existsSync(model) ? report : model}.`, vscode.Uri.file(request.model), enginePid);
      }
      let panelOpened = false;
      if (options.openReport !== false) {
        try {
          this.panels.show(report);
          panelOpened = true;
        } catch (err) {
          this.log(`Could not open the report: ${errorText(err)}`);
          void vscode.window.showErrorMessage(`Octet: ${errorText(err)}`);
        }
      }
      return { status: 'done', model, report, elapsedMs: exit.elapsedMs, panelOpened };
    }
    removePartialOutputs(snapshot);
    return this.fail(this.explainFailure(exit), vscode.Uri.file(request.model), enginePid);
  }

  private explainFailure(exit: EngineExit): string {
    if (exit.error) {
      const { subject, message } = exit.error;
      return subject && !message.includes(subject) ? `${subject}: ${message}` : message;
    }
    if (exit.spawnError) return `the engine could not be started (${exit.spawnError.message}).`;
    const last = exit.stderrTail.filter((l) => l.trim().length > 0).slice(-1)[0];
    const how = exit.signal ? `was stopped by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    return `the engine ${how}${last ? `: ${last.trim()}` : ''}.`;
  }

  /** Logs, shows the error with "Show log" (and "Re-run…" when the model is known), and returns the outcome. */
  private fail(text: string, modelUri?: vscode.Uri, enginePid?: number): QuantizeOutcome {
    this.log(`Failed: ${text}`);
    const actions = modelUri ? ['Show log', 'Re-run…'] : ['Show log'];
    void vscode.window.showErrorMessage(`Octet could not quantize${modelUri ? ` ${basename(modelUri.fsPath)}` : ''}: ${text}`, ...actions)
      .then((action) => {
        if (action === 'Show log') this.output.show(true);
        if (action === 'Re-run…' && modelUri) void vscode.commands.executeCommand('octet.quantize', modelUri);
      });
    return { status: 'failed', message: text, enginePid };
  }
}
