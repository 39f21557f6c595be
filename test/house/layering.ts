// The import-direction check: which room of src/ may import which, what the webviews (media/) may import, and
// which rooms may use the packages that tie code to a host. The rules are the tables below; `checkLayering` reads
// every .ts file under src/ and media/ of a tree and returns each import that breaks them (type-only imports
// count: they tie the code together as much as any other).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * Rooms of src/, bottom row first. A file may import its own room and any room in a lower row; never a room in
 * its own row (siblings) or a higher one.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['common', 'types'],
  ['onnx'],
  ['quant', 'graphmodel'],
  ['data'],
  ['engine'],
  ['report'],
  ['protocol'],
  ['cli', 'extension', 'demo'],
];

/** Webview code runs in a browser: media/ may import only these parts of src/ (a folder ends in '/'). */
export const MEDIA_MAY_IMPORT: readonly string[] = [
  'src/protocol/', 'src/graphmodel/', 'src/common/',
  'src/report/format.ts', 'src/report/tables.ts', 'src/report/chart-data.ts',
];

/** Packages media/ may import (no node: modules, nothing that needs Node). */
export const MEDIA_PACKAGES: readonly string[] = ['chart.js'];

/** Packages that only some places may import (a room, or a folder of src/ ending in '/'). */
export const PACKAGE_OWNERS: Readonly<Record<string, readonly string[]>> = {
  vscode: ['extension'],
  'onnxruntime-node': ['src/engine/runtime/'],
  protobufjs: ['onnx'],
};

/** Virtual modules esbuild provides (esbuild.mjs), as the file they stand for. */
const VIRTUAL_MODULES: Readonly<Record<string, string>> = { 'octet:report-page': 'src/report/html-page.ts' };

export interface Violation {
  /** Importing file, relative to the tree's root. */
  file: string;
  /** What it imports: a file relative to the root, or a package name. */
  imports: string;
  why: string;
}

const rankOf = new Map(LAYERS.flatMap((row, rank) => row.map((room) => [room, rank] as const)));

/** 'src/onnx/x.ts' → 'onnx'; 'media/...' → 'media'; anything else → undefined (not checked). */
function roomOf(file: string): string | undefined {
  const [top, room] = file.split('/');
  if (top === 'media') return 'media';
  return top === 'src' ? room : undefined;
}

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : listTs(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** Module specifiers of every import, export-from, dynamic import and require (comments removed first). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /^\s*(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"\n]+)['"]/gm,
    /^\s*import\s*['"]([^'"\n]+)['"]/gm,
    /\b(?:import|require)\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]));
}

/** A relative specifier as a file under root ('src/onnx/graph.ts'), trying the extensions TypeScript would. */
function resolveRelative(root: string, fromFile: string, specifier: string): string {
  const base = resolve(root, dirname(fromFile), specifier);
  const found = [base, `${base}.ts`, `${base}.d.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
  return relative(root, found ?? base).split(sep).join('/');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function allowedFor(file: string, room: string, owners: readonly string[]): boolean {
  return owners.some((owner) => (owner.endsWith('/') ? file.startsWith(owner) : owner === room));
}

/** Why `file` (in `room`) may not import `target`, or undefined when it may. */
function fileRule(file: string, room: string, target: string): string | undefined {
  const targetRoom = roomOf(target);
  if (room === 'media') {
    if (targetRoom === 'media') return undefined;
    return MEDIA_MAY_IMPORT.some((allowed) => (allowed.endsWith('/') ? target.startsWith(allowed) : target === allowed))
      ? undefined : `media/ may import only ${MEDIA_MAY_IMPORT.join(', ')}`;
  }
  if (targetRoom === 'media') return 'src/ never imports webview code (media/)';
  if (targetRoom === undefined) return `imports from outside src/ (${target})`;
  if (targetRoom === room) return undefined;
  const [from, to] = [rankOf.get(room), rankOf.get(targetRoom)];
  if (from === undefined) return `src/${room} is not in the layer table (test/house/layering.ts)`;
  if (to === undefined) return `src/${targetRoom} is not in the layer table (test/house/layering.ts)`;
  if (to === from) return `${room} and ${targetRoom} are siblings in one layer: neither imports the other`;
  return to > from ? `${room} is below ${targetRoom}: imports point down the layers only` : undefined;
}

function packageRule(file: string, room: string, specifier: string): string | undefined {
  const name = packageName(specifier);
  if (room === 'media') {
    return MEDIA_PACKAGES.includes(name) ? undefined : `media/ runs in a browser: it may import only the packages ${MEDIA_PACKAGES.join(', ')}`;
  }
  const owners = PACKAGE_OWNERS[name];
  return owners && !allowedFor(file, room, owners) ? `only ${owners.join(', ')} may import ${name}` : undefined;
}

/** Every import under root/src and root/media that breaks the tables above. */
export function checkLayering(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const full of [...listTs(join(root, 'src')), ...listTs(join(root, 'media'))]) {
    const file = relative(root, full).split(sep).join('/');
    const room = roomOf(file) as string;
    for (const specifier of importsOf(readFileSync(full, 'utf8'))) {
      const virtual = VIRTUAL_MODULES[specifier];
      const isFile = virtual !== undefined || specifier.startsWith('.');
      const imports = virtual ?? (isFile ? resolveRelative(root, file, specifier) : specifier);
      const why = isFile ? fileRule(file, room, imports) : packageRule(file, room, specifier);
      if (why) violations.push({ file, imports, why });
    }
  }
  return violations;
}
