// The same in-host suite (test/vscode/suite.vscode.ts) on desktop VS Code via @vscode/test-electron, for machines
// with internet access (it downloads VS Code). Offline machines use scripts/e2e/run-e2e.sh (code-server) instead.
//   npm run test:vscode-electron
import { runTests } from '@vscode/test-electron';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const SHARED = process.env.OCTET_SHARED_DIR ?? join(REPO, '..', 'shared');

/** The workspace the suite expects: resnet20.onnx, corrupt.onnx, calib/<class>/*.jpg (8 per class), empty-calib/. */
function makeWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'octet-electron-ws-'));
  const model = join(SHARED, 'assets', 'models', 'cifar10', 'resnet20_cifar10_akamaster.onnx');
  const images = join(SHARED, 'assets', 'images', 'cifar10-test');
  copyFileSync(model, join(ws, 'resnet20.onnx'));
  writeFileSync(join(ws, 'corrupt.onnx'), readFileSync(model).subarray(0, 4000));
  mkdirSync(join(ws, 'empty-calib'));
  writeFileSync(join(ws, 'empty-calib', 'README.txt'), 'no images here\n');
  for (const cls of readdirSync(images).sort()) {
    mkdirSync(join(ws, 'calib', cls), { recursive: true });
    for (const file of readdirSync(join(images, cls)).sort().slice(0, 8)) copyFileSync(join(images, cls, file), join(ws, 'calib', cls, file));
  }
  return ws;
}

async function main(): Promise<void> {
  const workspace = makeWorkspace();
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: REPO,
    extensionTestsPath: join(REPO, 'dist', 'vscode', 'suite.vscode.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
  });
}

main().catch((err: unknown) => {
  console.error('VS Code (electron) tests failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
