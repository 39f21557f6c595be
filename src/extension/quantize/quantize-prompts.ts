// Asks, with native VS Code UI, everything a quantization run needs that the settings do not decide: calibration
// folder, labels, preprocessing, method, number of calibration images and (when enabled) the accuracy gate.
import * as vscode from 'vscode';
import { basename, dirname } from 'node:path';
import type { CalibrationMethod } from '../../common/report';
import { describeAllowed, valueProblem } from '../../engine/option-kinds';
import { QUANTIZE_OPTIONS } from '../../engine/options';
import { CalibrationFolderInfo, describeCalibrationFolder, IMAGE_EXTENSIONS, inspectCalibrationFolder } from './calibration-folder';
import type { DescribedInput } from '../../data/model-description';
import type { PreprocessingFields, PreprocessingGuess } from '../../data/preprocessing';
import { askPreprocessing } from './preprocess-prompt';
import { Choice, askText, pickOne } from './quick-input';
import { CALIBRATION_METHODS, completeRequest, RunRequest } from './quantize-request';
import type { QuantizeDefaults } from './settings';

const METHOD_DESCRIPTIONS: Record<CalibrationMethod, string> = {
  minmax: 'observed min/max — fast, safe for most CNNs',
  entropy: 'KL-divergence histogram (TensorRT style) — clips outliers',
  percentile: 'clip to a percentile of the histogram',
  mse: 'range minimizing quantization mean squared error',
};

/** What the prompts start from: settings, the model, and answers remembered from earlier runs. */
export interface PromptContext {
  modelPath: string;
  /** The model's image input and preprocessing guess (src/data/model-description.ts). */
  input: DescribedInput;
  guess: PreprocessingGuess;
  defaults: QuantizeDefaults;
  rememberedCalibrationDir: string | undefined;
  rememberedLabelsFile: string | undefined;
  /** The preprocessing answered last time for this model. */
  rememberedPreprocessing: PreprocessingFields | undefined;
  /** When re-running: the earlier request, whose answers are pre-selected. */
  previous?: Partial<RunRequest>;
}

const STEP_COUNT_BASE = 5;

/** Folders in the workspace that hold images; a folder of class subfolders is offered instead of each class. */
async function findImageFolders(limit: number): Promise<string[]> {
  const pattern = `**/*.{${IMAGE_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
  const files = await vscode.workspace.findFiles(pattern, '**/{node_modules,.git,dist}/**', 3000);
  const parents = new Map<string, number>();
  for (const file of files) {
    const folder = dirname(file.fsPath);
    parents.set(folder, (parents.get(folder) ?? 0) + 1);
  }
  const byGrandparent = new Map<string, number>();
  for (const folder of parents.keys()) byGrandparent.set(dirname(folder), (byGrandparent.get(dirname(folder)) ?? 0) + 1);
  const candidates = new Set<string>();
  for (const folder of parents.keys()) {
    const grandparent = dirname(folder);
    candidates.add((byGrandparent.get(grandparent) ?? 0) >= 2 ? grandparent : folder);
  }
  return [...candidates].sort().slice(0, limit);
}

async function askCalibrationFolder(ctx: PromptContext, title: string): Promise<CalibrationFolderInfo | undefined> {
  const BROWSE = '\0browse';
  const start = ctx.previous?.calib ?? ctx.rememberedCalibrationDir;
  const folders = new Set<string>();
  if (start) folders.add(start);
  for (const folder of await findImageFolders(8)) folders.add(folder);
  const items: Choice<string>[] = [];
  for (const folder of folders) {
    const info = inspectCalibrationFolder(folder);
    if (info.images === 0) continue;
    const relative = vscode.workspace.asRelativePath(folder, true);
    items.push({
      value: folder,
      label: `$(folder) ${relative}`,
      description: folder === start ? 'last used for this model' : undefined,
      detail: describeCalibrationFolder(info),
    });
  }
  items.push({ value: BROWSE, label: '$(folder-opened) Browse…', detail: 'Choose a folder of images (JPEG, PNG…)' });
  let chosen = await pickOne({ title, placeholder: 'Calibration images: a folder of representative inputs', items, active: items[0] });
  if (chosen === undefined) return undefined;
  if (chosen === BROWSE) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false, canSelectFolders: true, canSelectMany: false, title: 'Calibration image folder',
      openLabel: 'Use for calibration', defaultUri: vscode.Uri.file(start ?? dirname(ctx.modelPath)),
    });
    if (!picked?.[0]) return undefined;
    chosen = picked[0].fsPath;
  }
  const info = inspectCalibrationFolder(chosen);
  if (info.images === 0) {
    void vscode.window.showErrorMessage(`Octet: ${chosen} holds no images (${IMAGE_EXTENSIONS.join(', ')}), so it cannot calibrate.`);
    return undefined;
  }
  return info;
}

async function askLabels(ctx: PromptContext, info: CalibrationFolderInfo, title: string): Promise<string | null | undefined> {
  const CHOOSE = '\0choose';
  const items: Choice<string | null>[] = [];
  const detected = info.labels;
  const remembered = ctx.previous?.labels ?? ctx.rememberedLabelsFile;
  if (detected.kind === 'file') {
    items.push({ value: detected.path, label: `$(check) ${basename(detected.path)}`, description: 'detected in the folder' });
  } else if (detected.kind === 'subfolders') {
    items.push({ value: null, label: `$(check) Class subfolders (${detected.classes} classes)`,
      description: 'detected: class index = sorted folder order' });
  }
  if (remembered && remembered !== (detected.kind === 'file' ? detected.path : '')) {
    items.push({ value: remembered, label: `$(history) ${basename(remembered)}`, description: 'used last time' });
  }
  if (detected.kind === 'none') {
    items.push({ value: null, label: 'No labels', description: 'compare INT8 with FP32 only (agreement, SQNR)' });
  }
  items.push({ value: CHOOSE, label: '$(file) Choose a labels file…', description: 'lines "FILE CLASS_INDEX"' });
  const answer = await pickOne({ title, placeholder: describeCalibrationFolder(info), items, active: items[0] });
  if (answer !== CHOOSE) return answer;
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true, canSelectFolders: false, canSelectMany: false, title: 'Labels file',
    defaultUri: vscode.Uri.file(info.folder), filters: { Labels: ['txt', 'csv'], 'All files': ['*'] },
  });
  return picked?.[0]?.fsPath;
}

async function askMethod(ctx: PromptContext, title: string): Promise<CalibrationMethod | undefined> {
  const preferred = ctx.previous?.method ?? ctx.defaults.method;
  const ordered = [...CALIBRATION_METHODS].sort((a, b) => Number(b === preferred) - Number(a === preferred));
  const items: Choice<CalibrationMethod>[] = ordered.map((method) => ({
    value: method, label: method, description: METHOD_DESCRIPTIONS[method],
  }));
  return pickOne({ title, placeholder: 'Calibration method (how activation ranges are chosen)', items, active: items[0] });
}

function parseWholeNumber(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : null;
}

async function askCalibrationCount(ctx: PromptContext, info: CalibrationFolderInfo, title: string): Promise<number | undefined> {
  const preferred = ctx.previous?.calibCount ?? ctx.defaults.calibCount;
  const text = await askText({
    title,
    prompt: `Number of calibration images (the folder has ${info.images.toLocaleString('en-US')}${info.imagesCapped ? '+' : ''})`,
    value: String(Math.min(preferred, info.images)),
    validate: (t) => {
      const option = QUANTIZE_OPTIONS.calibCount;
      return valueProblem(option, parseWholeNumber(t)) === null ? null : `Enter ${describeAllowed(option)}.`;
    },
  });
  return text === undefined ? undefined : Number(text);
}

async function askMaxDrop(ctx: PromptContext, title: string, initial: number): Promise<number | null | undefined> {
  const text = await askText({
    title,
    prompt: 'Largest acceptable top-1 accuracy drop, in points (empty: no limit). Layers are kept in FP32 until it holds.',
    value: String(initial),
    validate: (t) => {
      const option = QUANTIZE_OPTIONS.maxDrop;
      return t.trim() === '' || valueProblem(option, Number(t)) === null ? null : `Enter ${describeAllowed(option)} (points), or leave it empty.`;
    },
  });
  if (text === undefined) return undefined;
  return text.trim() === '' ? null : Number(text);
}

/** Runs the questions in order; undefined when the person pressed Escape at any step. */
export async function promptForRequest(ctx: PromptContext): Promise<RunRequest | undefined> {
  const askDrop = ctx.defaults.maxDrop !== null || (ctx.previous?.maxDrop ?? null) !== null;
  const total = STEP_COUNT_BASE + (askDrop ? 1 : 0);
  const name = basename(ctx.modelPath);
  const title = (step: number) => `Octet: Quantize ${name} to INT8 (${step}/${total})`;

  const folder = await askCalibrationFolder(ctx, title(1));
  if (!folder) return undefined;
  const labels = await askLabels(ctx, folder, title(2));
  if (labels === undefined) return undefined;
  const preprocessing = await askPreprocessing({
    input: ctx.input, guess: ctx.guess, title: title(3), defaultPreset: ctx.defaults.preprocess,
    last: ctx.previous?.preprocessing ?? ctx.rememberedPreprocessing,
  });
  if (!preprocessing) return undefined;
  const method = await askMethod(ctx, title(4));
  if (!method) return undefined;
  const calibCount = await askCalibrationCount(ctx, folder, title(5));
  if (calibCount === undefined) return undefined;
  let maxDrop: number | null = null;
  if (askDrop) {
    const answer = await askMaxDrop(ctx, title(6), ctx.previous?.maxDrop ?? ctx.defaults.maxDrop ?? 1);
    if (answer === undefined) return undefined;
    maxDrop = answer;
  }
  // The answer goes to the engine as a spec file; --preprocess names its preset only when it is one.
  const preprocess = preprocessing.preset ?? 'auto';
  return completeRequest(ctx.modelPath, folder.folder, ctx.defaults, { ...ctx.previous, labels, preprocess, preprocessing, method, calibCount, maxDrop });
}
