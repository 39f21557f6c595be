// Looks at a calibration image folder the way the engine will read it: how many images, and where labels come
// from (a labels file beside the images, or one subfolder per class). Shown to the person before the run.
import { Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.jpe', '.png'];
const LABEL_FILE_NAMES = ['labels.txt', 'labels.csv', 'val.txt', 'ground_truth.txt'];
/** Stop counting past this many: a folder of a million images must not stall the prompt. */
const COUNT_LIMIT = 100_000;

export type LabelSource =
  | { kind: 'file'; path: string }
  | { kind: 'subfolders'; classes: number }
  | { kind: 'none' };

export interface CalibrationFolderInfo {
  folder: string;
  images: number;
  /** True when counting stopped at the limit. */
  imagesCapped: boolean;
  labels: LabelSource;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));

function listDir(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}

function countImages(folder: string, budget: { left: number }, depth: number): number {
  let count = 0;
  for (const entry of listDir(folder)) {
    if (budget.left <= 0) break;
    if (entry.isFile() && isImage(entry.name)) {
      count++;
      budget.left--;
    } else if (entry.isDirectory() && depth < 2 && !entry.name.startsWith('.')) {
      count += countImages(join(folder, entry.name), budget, depth + 1);
    }
  }
  return count;
}

export function inspectCalibrationFolder(folder: string): CalibrationFolderInfo {
  const entries = listDir(folder);
  const labelFile = LABEL_FILE_NAMES.map((n) => join(folder, n)).find((p) => existsSync(p) && statSync(p).isFile());
  const classFolders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')
    && listDir(join(folder, e.name)).some((f) => f.isFile() && isImage(f.name)));
  const budget = { left: COUNT_LIMIT };
  const images = countImages(folder, budget, 0);
  let labels: LabelSource = { kind: 'none' };
  if (labelFile) labels = { kind: 'file', path: labelFile };
  else if (classFolders.length >= 2) labels = { kind: 'subfolders', classes: classFolders.length };
  return { folder, images, imagesCapped: budget.left <= 0, labels };
}

/** One sentence for the prompt, e.g. "2,000 images in 10 class subfolders: top-1/top-5 accuracy will be measured." */
export function describeCalibrationFolder(info: CalibrationFolderInfo): string {
  const count = `${info.images.toLocaleString('en-US')}${info.imagesCapped ? '+' : ''} image${info.images === 1 ? '' : 's'}`;
  switch (info.labels.kind) {
    case 'file':
      return `${count}, labels from ${info.labels.path.split(/[\\/]/).pop()}: top-1/top-5 accuracy will be measured.`;
    case 'subfolders':
      return `${count} in ${info.labels.classes} class subfolders (class index = sorted folder order): top-1/top-5 accuracy will be measured.`;
    case 'none':
      return `${count}, no labels found: INT8 is compared with FP32 (agreement, SQNR) instead of accuracy.`;
  }
}
