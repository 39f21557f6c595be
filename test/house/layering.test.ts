// Imports point down the layers (test/house/layering.ts holds the rules): the real tree has no wrong-way arrow,
// and the checker does catch one, run on small synthetic trees built in a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkLayering, importsOf } from './layering';
import { tempDir } from '../fixtures/models';

function tree(files: Record<string, string>): string {
  const root = tempDir('octet-layering-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('the real tree: every import points down the layers', () => {
  const violations = checkLayering(process.cwd());
  assert.deepEqual(violations.map((v) => `${v.file} → ${v.imports}: ${v.why}`), []);
});

test('the checker finds every import form, type-only ones included, and skips comments', () => {
  const source = [
    "import { a } from './a';",
    "import type { B } from '../b';",
    "import {\n  c,\n  d,\n} from './cd';",
    "export { e } from './e';",
    "export type * from './f';",
    "import './side-effect.css';",
    "const g = await import('./g');",
    "const h = require('h-package');",
    "// import { x } from './commented';",
    "/* import { y } from './block'; */",
    "const s = 'from \\'./not-an-import\\'';",
  ].join('\n');
  assert.deepEqual(importsOf(source).sort(), ['../b', './a', './cd', './e', './f', './g', './side-effect.css', 'h-package'].sort());
});

test('a wrong-way import fails the check, with the rule it breaks', () => {
  const root = tree({
    'src/common/ok.ts': "export const ok = 1;\n",
    'src/onnx/graph.ts': "import { ok } from '../common/ok';\nimport type { Session } from '../engine/session';\n",
    'src/engine/session.ts': "import { ok } from '../common/ok';\nexport interface Session { id: number }\n",
    'src/quant/plan.ts': "import { view } from '../graphmodel/view';\n",
    'src/graphmodel/view.ts': "export const view = 1;\n",
    'src/report/page.ts': "import * as vscode from 'vscode';\n",
    'src/extension/panel.ts': "import * as vscode from 'vscode';\nimport { x } from '../../media/report/x';\n",
    'src/novel/thing.ts': "import { ok } from '../common/ok';\n",
    'media/report/x.ts': "import { ok } from '../../src/common/ok';\nimport { run } from '../../src/engine/session';\nimport { readFileSync } from 'node:fs';\nexport const x = 1;\n",
  });
  const found = checkLayering(root).map((v) => `${v.file} → ${v.imports}: ${v.why}`).sort();
  assert.deepEqual(found, [
    'media/report/x.ts → node:fs: media/ runs in a browser: it may import only the packages chart.js',
    'media/report/x.ts → src/engine/session.ts: media/ may import only src/protocol/, src/graphmodel/, src/common/, src/report/format.ts, src/report/tables.ts, src/report/chart-data.ts',
    'src/extension/panel.ts → media/report/x.ts: src/ never imports webview code (media/)',
    'src/novel/thing.ts → src/common/ok.ts: src/novel is not in the layer table (test/house/layering.ts)',
    'src/onnx/graph.ts → src/engine/session.ts: onnx is below engine: imports point down the layers only',
    'src/quant/plan.ts → src/graphmodel/view.ts: quant and graphmodel are siblings in one layer: neither imports the other',
    'src/report/page.ts → vscode: only extension may import vscode',
  ]);
});

test('a tree whose imports all point down passes', () => {
  const root = tree({
    'src/common/errors.ts': "export class E {}\n",
    'src/onnx/io.ts': "import { E } from '../common/errors';\n",
    'src/engine/runtime/session.ts': "import * as ort from 'onnxruntime-node';\nimport { E } from '../../common/errors';\n",
    'src/extension/main.ts': "import * as vscode from 'vscode';\nimport type { S } from '../engine/runtime/session';\n",
    'src/protocol/graph.ts': "import type { R } from '../report/format';\nexport interface P { r: R }\n",
    'src/report/format.ts': "export type R = string;\nexport const fmt = (r: R) => r;\n",
    'media/graph/main.ts': "import type { P } from '../../src/protocol/graph';\nimport { fmt } from '../../src/report/format';\nimport Chart from 'chart.js/auto';\n",
  });
  assert.deepEqual(checkLayering(root), []);
});
