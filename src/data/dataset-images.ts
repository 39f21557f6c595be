// Image-folder data sets: JPEG/PNG files labelled by a `FILE CLASS_INDEX` labels file, by class subfolders, or not at
// all. openImageFolder() finds the images and checks the labels up front; each read decodes one file (preprocess.ts) on
// a decoding thread (decode-pool).
import { Dirent, promises as fs } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OctetError } from '../common/errors';
import { isInsideFolder } from '../common/paths';
import type { Dataset, DatasetOptions, InputSpec } from './dataset';
import { readRegularFile } from '../common/safe-read';
import { checkImageInput, checkIndex, checkLabelRange, FILE_LIMITS, imageSampleShapes, listDir, warningSink } from './dataset-common';
import { decodeImageTensor } from './decode-pool';
import { ImageTooLargeError, MAX_IMAGE_PIXELS } from './image-decode';

/** Extensions of the formats preprocess decodes (JPEG via jpeg-js, PNG via pngjs). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png']);
/** Image files people keep in data sets that Octet cannot decode: skipped with a warning. */
export const UNSUPPORTED_IMAGE_EXTENSIONS = new Set(['.bmp', '.ppm', '.pgm', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.jxl', '.jp2']);
const LABELS_FILE_NAME = 'labels.txt';
/** Images over the pixel budget named one by one in warnings; past this, one warning says more were skipped. */
const TOO_LARGE_NAMED = 5;

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function greyWarning(input: InputSpec, example: string): string {
  return `model input '${input.name}' takes 1 channel: colour images are converted to greyscale (ITU-R 601 luma), e.g. ${example}`;
}

interface ImageEntry { file: string; id: string; label: number | null }

/** Parses `FILE CLASS_INDEX` lines (blank lines and # comments allowed; the file name may contain spaces). */
export function parseLabelsText(text: string, labelsFile: string): { file: string; label: number; line: number }[] {
  const out: { file: string; label: number; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!match) {
      const shown = line.length > 80 ? `${line.slice(0, 80)}...` : line;
      throw new OctetError(labelsFile, `line ${i + 1}: expected "FILE CLASS_INDEX" (class index a whole number >= 0), got "${shown}"`);
    }
    out.push({ file: match[1], label: Number(match[2]), line: i + 1 });
  }
  return out;
}

type Located = 'found' | 'missing' | 'outside';

/**
 * Where each labels entry is: found inside the data folder, missing, or outside it — by its written path and, symlinks
 * followed, by its real one. One listing per folder the labels mention instead of a stat per line; only folders and
 * entries that are symlinks are resolved.
 */
async function locateEntries(folder: string, files: readonly string[]): Promise<Located[]> {
  const realFolder = await fs.realpath(folder);
  const inside = (real: string): boolean => isInsideFolder(realFolder, real);
  const listings = new Map<string, Map<string, Dirent> | 'outside' | null>();
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    if (!isInsideFolder(folder, dir)) { listings.set(dir, 'outside'); continue; }
    const realDir = await fs.realpath(dir).catch(() => null);
    if (realDir === null) { listings.set(dir, null); continue; }
    if (!inside(realDir)) { listings.set(dir, 'outside'); continue; }
    const dirents = await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    listings.set(dir, new Map(dirents.map((d) => [d.name, d])));
  }
  return Promise.all(files.map(async (file): Promise<Located> => {
    const listing = listings.get(dirname(file));
    if (listing === 'outside') return 'outside';
    const dirent = listing?.get(basename(file));
    if (!dirent) return 'missing';
    if (!dirent.isSymbolicLink()) return 'found';
    const real = await fs.realpath(file).catch(() => null);
    return real === null ? 'missing' : inside(real) ? 'found' : 'outside';
  }));
}

async function imageEntriesFromLabels(folder: string, labelsFile: string, rootImages: string[], input: InputSpec, warn: (m: string) => void): Promise<ImageEntry[]> {
  const text = (await readRegularFile(labelsFile, FILE_LIMITS.labels)).toString('utf8');
  const lines = parseLabelsText(text, labelsFile);
  if (lines.length === 0) throw new OctetError(labelsFile, 'names no images (no "FILE CLASS_INDEX" lines)');
  const entries = lines.map(({ file, label }) => ({ file: resolve(folder, file), id: file, label }));
  checkLabelRange(lines.map((l) => l.label), input, labelsFile, (i) => `line ${lines[i].line} ('${lines[i].file}')`);
  const located = await locateEntries(folder, entries.map((e) => e.file));
  const outside = located.indexOf('outside');
  if (outside >= 0) {
    throw new OctetError(labelsFile, `line ${lines[outside].line} names '${entries[outside].id}', which is outside the data folder ${folder} `
      + '(symlinks followed); a labels file may name only files inside its data folder');
  }
  const missing = entries.filter((_, i) => located[i] === 'missing');
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).map((e) => e.id).join(', ');
    throw new OctetError(labelsFile, `names ${missing.length} file(s) not found in ${folder}: ${shown}${missing.length > 3 ? ', ...' : ''}`);
  }
  const listed = new Set(entries.map((e) => e.file));
  const unlisted = rootImages.filter((name) => !listed.has(join(folder, name)));
  if (unlisted.length > 0) {
    warn(`${unlisted.length} image(s) in ${folder} are not in ${labelsFile} and are left out, e.g. ${unlisted[0]}`);
  }
  return entries;
}

/** One class per subfolder, class index = sorted folder order (empty class folders keep their index, with a warning). */
function imageEntriesFromClassFolders(folder: string, classDirs: { dir: string; images: string[] }[], warn: (m: string) => void): ImageEntry[] {
  const entries: ImageEntry[] = [];
  classDirs.forEach(({ dir, images }, label) => {
    if (images.length === 0) warn(`class folder ${join(folder, dir)} has no images (class index ${label} kept)`);
    for (const name of images) entries.push({ file: join(folder, dir, name), id: `${dir}/${name}`, label });
  });
  return entries;
}

export async function openImageFolder(folder: string, options: DatasetOptions): Promise<Dataset> {
  const { input, preprocessing } = options;
  checkImageInput(input, preprocessing, folder);
  const sink = warningSink();
  const { files, dirs } = await listDir(folder);
  const rootImages = files.filter(isImageFile);
  const unsupportedIn = (names: string[]): string[] => names.filter((f) => UNSUPPORTED_IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
  const warnUnsupported = (names: string[], where: string): void => {
    const unsupported = unsupportedIn(names);
    if (unsupported.length > 0) {
      sink.warn(`${unsupported.length} file(s) in ${where} are in a format Octet cannot decode and are skipped, e.g. ${unsupported[0]} (convert them to PNG or JPEG)`);
    }
  };
  warnUnsupported(files, folder);

  let entries: ImageEntry[];
  let labelsSource: string | null;
  /** With no usable image found: one file skipped for its format, to say so in the error. */
  let unsupportedExample = unsupportedIn(files).map((name) => join(folder, name))[0];
  const labelsFile = options.labels ? resolve(options.labels) : files.includes(LABELS_FILE_NAME) ? join(folder, LABELS_FILE_NAME) : null;
  if (labelsFile) {
    entries = await imageEntriesFromLabels(folder, labelsFile, rootImages, input, sink.warn);
    labelsSource = labelsFile;
  } else {
    const listings = await Promise.all(dirs.map(async (dir) => ({ dir, files: (await listDir(join(folder, dir))).files })));
    const classDirs = listings.map(({ dir, files: names }) => ({ dir, images: names.filter(isImageFile) }));
    if (classDirs.some((c) => c.images.length > 0)) {
      for (const { dir, files: names } of listings) warnUnsupported(names, join(folder, dir));
      entries = imageEntriesFromClassFolders(folder, classDirs, sink.warn);
      checkLabelRange(classDirs.map((_, i) => i), input, folder, (i) => `class folder '${classDirs[i].dir}'`);
      labelsSource = 'class subfolders';
      if (rootImages.length > 0) sink.warn(`${rootImages.length} image(s) directly in ${folder} are left out: with class subfolders, only images inside them count`);
    } else {
      entries = rootImages.map((name) => ({ file: join(folder, name), id: name, label: null }));
      labelsSource = null;
      unsupportedExample ??= listings.flatMap(({ dir, files: names }) => unsupportedIn(names).map((name) => join(folder, dir, name)))[0];
    }
  }
  if (entries.length === 0) {
    const skipped = unsupportedExample ? `; files such as ${unsupportedExample} are skipped: unsupported image format; use JPEG or PNG` : '';
    throw new OctetError(folder, `no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')} files, directly or one class folder down)${skipped}`);
  }

  const tooLarge = new Set<number>();
  return {
    info: { path: folder, kind: 'image-folder', count: entries.length, labelled: labelsSource !== null, labelsSource },
    size: entries.length,
    ...imageSampleShapes(input, preprocessing),
    warnings: sink.warnings,
    // An image over the pixel budget is skipped with a warning naming it: the next image in the folder takes its place.
    async read(index, signal) {
      checkIndex(index, entries.length, folder);
      for (let step = 0; step < entries.length; step++) {
        const at = (index + step) % entries.length;
        if (tooLarge.has(at)) continue;
        const entry = entries[at];
        const bytes = await readRegularFile(entry.file, FILE_LIMITS.image);
        try {
          const { data, shape, convertedToGrey, seconds } = await decodeImageTensor(bytes, entry.file, input, preprocessing, signal);
          if (convertedToGrey) sink.warn(greyWarning(input, entry.id), 'grey');
          return { id: entry.id, label: entry.label, data, shape, decodeSeconds: seconds };
        } catch (err) {
          if (!(err instanceof ImageTooLargeError)) throw err;
          tooLarge.add(at);
          if (tooLarge.size <= TOO_LARGE_NAMED) sink.warn(`${err.message}: skipped, the next image takes its place`);
          else sink.warn('More images over the pixel budget are skipped too.', 'too-large');
        }
      }
      throw new OctetError(folder, `every image is over the ${MAX_IMAGE_PIXELS / 1e6} megapixel decoding budget; resize them (e.g. to the model's input size)`);
    },
  };
}
