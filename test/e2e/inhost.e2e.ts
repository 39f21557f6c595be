// Runs the in-host suite (dist/vscode/suite.vscode.js) inside code-server's real Node extension host, the way
// @vscode/test-electron does on desktop: the workbench URL carries extensionDevelopmentPath + extensionTestsPath,
// and the workbench reports the suite's end through window.codeAutomationExit.
import { launchBrowser, log, requireEnv } from './browser';

const TIMEOUT_MS = Number(process.env.OCTET_INHOST_TIMEOUT_MS ?? 600_000);

async function main(): Promise<number> {
  const base = requireEnv('CS_URL');
  const folder = requireEnv('CS_FOLDER');
  const extensionDir = requireEnv('EXT_DIR');
  const authority = new URL(base).host;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      console.log('[host]', type, ...(Array.isArray(args) ? args : [args]));
    });
    page.on('console', (m) => {
      const text = m.text();
      if (/^(not )?ok - |in-host: |Error|error/.test(text) && !/favicon|ResizeObserver/.test(text)) console.log('[console]', text.slice(0, 500));
    });
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${extensionDir}`],
      ['extensionTestsPath', `vscode-remote://${authority}${extensionDir}/dist/vscode/suite.vscode.js`],
    ];
    await page.goto(`${base}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    log('workbench opened with the in-host suite');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), TIMEOUT_MS))]);
    log('codeAutomationExit:', code);
    return code === 0 ? 0 : 1;
  } finally {
    await browser.close();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error('in-host driver failed:', err);
  process.exit(1);
});
