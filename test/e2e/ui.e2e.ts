// UI test in a real browser against code-server with the packaged .vsix installed: right-click a model in the
// Explorer → "Quantize to INT8…" → answer the prompts → the report panel shows accuracy and speedup, compared with
// the Report JSON the engine wrote. Also: the panel comes back after a window reload, a layer click is handled,
// and a corrupt model shows an error notification with "Show log". Screenshots go to $SHOTS.
import { Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../src/common/report';
import { formatPercent, formatPoints, formatSpeedup, headlineBench } from '../../src/report/format';
import { launchBrowser, log, openContextEntry, requireEnv, StepRunner } from './browser';

const base = requireEnv('CS_URL');
const folder = requireEnv('CS_FOLDER');
const shots = requireEnv('SHOTS');
const resultsPath = requireEnv('UI_RESULTS');
const RUN_TIMEOUT_MS = 300_000;
/** The Custom… answer: near torch's numbers (so accuracy holds), but no preset's. */
const CUSTOM_MEAN = '124,116,104';
const CUSTOM_STD = '58.4,57.1,57.4';

const runner = new StepRunner(shots, { failPrefix: 'fail-', stopOnFailure: true });
const step = runner.step.bind(runner);
const shot = runner.shot.bind(runner);

/** The report webview: outer iframe.webview → inner #active-frame. */
/**
 * The report panel's webview: the last visible one. A graph viewer opened beside it keeps its own iframe, hidden while
 * the report's tab is active, and the two iframes' order in the page is not fixed (a run once waited 30 s inside the
 * graph viewer's iframe for the report's figures).
 */
function reportFrame(p: Page): FrameLocator {
  return p.frameLocator('iframe.webview.ready >> visible=true').last().frameLocator('#active-frame');
}

/**
 * The webview frame (any depth) in which `selector` is visible, waiting up to `timeout` ms: after hide/show the
 * workbench may keep another webview's iframe in the DOM after the shown one, so "the last visible" can be the wrong one.
 */
async function frameShowing(p: Page, selector: string, timeout: number): Promise<Frame> {
  const end = Date.now() + timeout;
  for (;;) {
    for (const frame of p.frames()) {
      if (await frame.locator(selector).first().isVisible().catch(() => false)) return frame;
    }
    if (Date.now() > end) throw new Error(`no webview showed ${selector} within ${timeout} ms`);
    await p.waitForTimeout(250);
  }
}

async function quickInput(p: Page, titlePart: string): Promise<Locator> {
  const widget = p.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: titlePart }).waitFor({ timeout: 30_000 });
  return widget;
}

async function main(): Promise<void> {
  mkdirSync(shots, { recursive: true });
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 } });
  const p = await context.newPage();
  runner.page = p;
  p.on('pageerror', (e) => log('[page error]', e.message.slice(0, 200)));
  // The webview's console (all frames): a CSP violation or a script error in the report panel is a failure.
  const webviewProblems: string[] = [];
  p.on('console', (m) => {
    const text = m.text();
    const fromReport = /report\.main\.(js|css)|vscode-resource|vscode-cdn|webview/i.test(`${m.location().url} ${text}`);
    if (/Content Security Policy|Refused to (load|apply|execute)/i.test(text) && fromReport) webviewProblems.push(text.slice(0, 300));
    if (m.type() === 'error' && /report\.main\.js/.test(m.location().url)) webviewProblems.push(text.slice(0, 300));
  });
  try {
    await step('workbench loads with the workspace', async () => {
      await p.goto(`${base}/?folder=${encodeURIComponent(folder)}`);
      await p.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'resnet20.onnx' }).waitFor({ timeout: 60_000 });
      return await shot('01-workbench.png');
    });

    await step('Explorer right-click on resnet20.onnx offers "Quantize to INT8…"', async () => {
      const row = p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'resnet20.onnx' }).first();
      await openContextEntry(p, row, 'Quantize to INT8', () => shot('02-context-menu.png'));
    });

    await step('prompts: calibration folder, labels, preprocessing (guessed; Custom… answered), method, count', async () => {
      let widget = await quickInput(p, '(1/5)');
      await widget.locator('.quick-input-list .monaco-list-row', { hasText: 'calib' }).first().waitFor({ timeout: 30_000 });
      await shot('03-prompt-calibration-folder.png');
      await p.keyboard.press('Enter');
      widget = await quickInput(p, '(2/5)');
      const labels = await widget.locator('.quick-input-list .monaco-list-row').first().textContent();
      if (!/Class subfolders \(10 classes\)/.test(labels ?? '')) throw new Error(`labels step did not detect class subfolders: ${labels}`);
      await shot('04-prompt-labels.png');
      await p.keyboard.press('Enter');
      widget = await quickInput(p, '(3/5)');
      const preset = await widget.locator('.quick-input-list .monaco-list-row').first().textContent();
      if (!/torch/.test(preset ?? '') || !/Guessed/.test(preset ?? '')) throw new Error(`preprocessing step did not pre-select the guess: ${preset}`);
      await shot('05-prompt-preprocess.png');
      // Custom…: channel order, mean, std, size, fit.
      await widget.locator('input').fill('Custom');
      await widget.locator('.quick-input-list .monaco-list-row', { hasText: 'Custom' }).first().waitFor({ timeout: 10_000 });
      await p.keyboard.press('Enter');
      await quickInput(p, '(3/5): channel order');
      await p.keyboard.press('Enter');
      for (const [what, value] of [['mean', CUSTOM_MEAN], ['std', CUSTOM_STD]]) {
        widget = await quickInput(p, `(3/5): ${what}`);
        await widget.locator('input').fill(value);
        await p.keyboard.press('Enter');
      }
      widget = await quickInput(p, '(3/5): size');
      const size = await widget.locator('input').inputValue();
      if (size !== '32x32') throw new Error(`the size prompt does not start from the model's 32x32: '${size}'`);
      await p.keyboard.press('Enter');
      await quickInput(p, '(3/5): fit');
      await shot('05b-prompt-custom-fit.png');
      await p.keyboard.press('Enter');
      await quickInput(p, '(4/5)');
      await p.keyboard.press('Enter');
      widget = await quickInput(p, '(5/5)');
      const input = widget.locator('input');
      await input.fill('32');
      await p.keyboard.press('Enter');
      return `labels: ${labels?.trim()}; preprocessing guess: ${preset?.trim()}; custom mean ${CUSTOM_MEAN}, std ${CUSTOM_STD}`;
    });

    await step('progress notification shows while the engine runs', async () => {
      const notification = p.locator('.notifications-toasts .notification-toast', { hasText: 'Octet: quantizing resnet20.onnx' });
      await notification.waitFor({ timeout: 30_000 });
      await p.waitForTimeout(300);
      await shot('06-progress.png');
      return ((await notification.textContent().catch(() => '')) ?? '').trim().slice(0, 120);
    });

    const reportPath = join(folder, 'resnet20.int8.report.json');
    let report: Report | undefined;
    await step('report panel shows accuracy and speedup equal to the Report JSON', async () => {
      const frame = reportFrame(p);
      await frame.locator('#acc-int8-top1').waitFor({ timeout: RUN_TIMEOUT_MS });
      const loaded = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
      report = loaded;
      const acc = loaded.accuracy;
      if (!acc?.fp32 || !acc.int8) throw new Error('the report has no labelled accuracy');
      const { singleThread } = headlineBench(loaded);
      if (!singleThread) throw new Error('the report has no benchmark');
      const expected: Record<string, string> = {
        '#acc-fp32-top1': formatPercent(acc.fp32.top1),
        '#acc-int8-top1': formatPercent(acc.int8.top1),
        '#acc-drop': formatPoints(acc.top1DropPoints),
        '#speedup-1t': formatSpeedup(singleThread.speedup),
      };
      const seen: string[] = [];
      for (const [selector, want] of Object.entries(expected)) {
        const got = (await frame.locator(selector).textContent())?.trim();
        if (got !== want) throw new Error(`${selector} shows '${got}', the report says '${want}'`);
        seen.push(`${selector}=${got}`);
      }
      const recorded = loaded.settings.preprocessing;
      if (!recorded || recorded.preset !== 'custom' || recorded.mean.join(',') !== CUSTOM_MEAN || recorded.std.join(',') !== CUSTOM_STD) {
        throw new Error(`the Report does not record the Custom… answer: ${JSON.stringify(recorded)}`);
      }
      const spec = JSON.parse(readFileSync(join(folder, 'resnet20.int8.preprocess.json'), 'utf8')) as { inputs: Record<string, { mean: number[] }> };
      if (Object.values(spec.inputs)[0]?.mean.join(',') !== CUSTOM_MEAN) throw new Error(`the spec file beside the report: ${JSON.stringify(spec)}`);
      const rows = await frame.locator('#layer-table tbody tr').count();
      if (rows !== loaded.layers.length) throw new Error(`layer table has ${rows} rows, report has ${loaded.layers.length} layers`);
      await p.waitForTimeout(500);
      await shot('07-report-panel-dark.png');
      return seen.join(', ');
    });

    await step('per-layer chart and sortable table render', async () => {
      const frame = reportFrame(p);
      if (report && report.layers.length > 0) {
        await frame.locator('#layer-chart').waitFor({ timeout: 10_000 });
        const sqnr = frame.locator('#layer-table th[data-column="sqnrDb"]');
        await sqnr.click();
        const sorted = await frame.locator('#layer-table th[data-column="sqnrDb"]').getAttribute('aria-sort');
        if (sorted !== 'ascending') throw new Error(`SQNR column aria-sort after click: ${sorted}`);
        await frame.locator('#layers').scrollIntoViewIfNeeded();
      } else {
        await frame.locator('#layers').scrollIntoViewIfNeeded();
      }
      await p.waitForTimeout(300);
      return await shot('08-report-layers-dark.png');
    });

    await step('report panel follows the light and high-contrast themes', async () => {
      const taken: string[] = [];
      const bodyClass = async () => (await reportFrame(p).locator('body').getAttribute('class')) ?? '';
      for (const [theme, file, cls] of [['Light Modern', '08b-report-light.png', 'vscode-light'],
        ['Dark High Contrast', '08c-report-high-contrast.png', 'vscode-high-contrast'], ['Dark Modern', '', 'vscode-dark']]) {
        // The installed-theme picker (Ctrl+K Ctrl+T); its marketplace entry is never chosen (no network here).
        await p.keyboard.press('Control+K');
        await p.keyboard.press('Control+T');
        const widget = p.locator('.quick-input-widget');
        const input = widget.locator('input[placeholder*="Select Color Theme"]');
        await input.waitFor({ timeout: 20_000 });
        await input.fill(theme);
        const row = widget.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first();
        await row.waitFor({ timeout: 10_000 });
        await row.click();
        const end = Date.now() + 20_000;
        while (!(await bodyClass()).includes(cls)) {
          if (Date.now() > end) throw new Error(`the report webview never switched to ${theme} (body class: ${await bodyClass()})`);
          await p.waitForTimeout(250);
        }
        await p.waitForTimeout(600);
        if (file) taken.push(await shot(file));
      }
      return taken.join(', ');
    });

    await step('clicking a layer asks the graph viewer to reveal it (or says it is unavailable); the hidden report comes back', async () => {
      const frame = reportFrame(p);
      const first = frame.locator('#layer-table tbody tr, #kept-table tbody tr').first();
      const node = await first.getAttribute('data-node');
      await first.click();
      const unavailable = p.locator('.notifications-toasts .notification-toast', { hasText: 'graph viewer is not available' });
      const graphTab = p.locator('.tabs-container .tab', { hasText: 'resnet20.int8.onnx' });
      await Promise.race([unavailable.waitFor({ timeout: 30_000 }), graphTab.waitFor({ timeout: 30_000 })]);
      await p.waitForTimeout(1000);
      await shot('09-layer-click.png');
      // Back to the report tab (its webview was hidden, and kept): it shows the report as it was, sort order included.
      const reportTab = p.locator('.tabs-container .tab', { hasText: 'INT8 report' }).first();
      await reportTab.click();
      await p.locator('.tabs-container .tab.active', { hasText: 'INT8 report' }).first().waitFor({ timeout: 10_000 })
        .catch(async () => { await reportTab.click(); });
      const shownAgain = await frameShowing(p, '#acc-int8-top1', 30_000);
      const sort = await shownAgain.locator('#layer-table th[data-column="sqnrDb"]').getAttribute('aria-sort');
      if (sort !== 'ascending') throw new Error(`after hide/show the SQNR sort is '${sort}'`);
      return `node ${node}: ${await graphTab.count() > 0 ? 'graph viewer opened' : 'info message shown'}; report restored after hide/show with its sort`;
    });

    await step('report panel is restored after a window reload', async () => {
      // "Developer: Reload Window" goes through the workbench's shutdown (state is saved) like a person's reload.
      await p.keyboard.press('F1');
      const input = p.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 20_000 });
      await input.fill('>Developer: Reload Window');
      await p.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Window' }).first().waitFor({ timeout: 20_000 });
      await Promise.all([p.waitForEvent('load', { timeout: 60_000 }), p.keyboard.press('Enter')]);
      await p.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      const tab = p.locator('.tabs-container .tab', { hasText: 'INT8 report' }).first();
      await tab.waitFor({ timeout: 60_000 });
      await tab.click();
      const frame = reportFrame(p);
      await frame.locator('#acc-int8-top1').waitFor({ timeout: 60_000 });
      const text = (await frame.locator('#acc-int8-top1').textContent())?.trim();
      await shot('10-report-restored.png');
      return `restored, INT8 top-1 ${text}`;
    });

    await step('"Re-run…" in the panel asks again, with the last answers pre-selected', async () => {
      await reportFrame(p).locator('#rerun').click();
      const widget = await quickInput(p, '(1/5)');
      const first = widget.locator('.quick-input-list .monaco-list-row').first();
      await first.waitFor({ timeout: 20_000 });
      const text = (await first.textContent()) ?? '';
      if (!/calib/.test(text) || !/last used for this model/.test(text)) throw new Error(`first choice is not the last folder: ${text}`);
      await shot('10b-rerun-prompt.png');
      await p.keyboard.press('Escape');
      return text.trim().slice(0, 120);
    });

    await step('Cancel on the progress notification stops the run; earlier outputs stay as they were', async () => {
      const before = readFileSync(reportPath, 'utf8');
      await reportFrame(p).locator('#rerun').click();
      for (const stepTitle of ['(1/5)', '(2/5)', '(3/5)', '(4/5)', '(5/5)']) {
        const widget = await quickInput(p, stepTitle);
        if (stepTitle === '(3/5)') {
          const first = (await widget.locator('.quick-input-list .monaco-list-row').first().textContent()) ?? '';
          if (!/Last used for this model/.test(first) || !first.includes(CUSTOM_MEAN)) throw new Error(`the re-run does not pre-select the last preprocessing: ${first}`);
        }
        await p.keyboard.press('Enter');
      }
      const progress = p.locator('.notifications-toasts .notification-toast', { hasText: 'Octet: quantizing resnet20.onnx' });
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).click({ timeout: 30_000 });
      const cancelled = p.locator('.notifications-toasts .notification-toast', { hasText: 'was cancelled; nothing was written' });
      await cancelled.waitFor({ timeout: 10_000 });
      await p.waitForTimeout(500);
      await shot('10c-cancelled.png');
      if (readFileSync(reportPath, 'utf8') !== before) throw new Error('the cancelled run changed the earlier report');
      const leftovers = readdirSync(folder).filter((f) => f.endsWith('.tmp'));
      if (leftovers.length > 0) throw new Error(`temp files left: ${leftovers.join(', ')}`);
      return 'cancelled; report unchanged, no temp files';
    });

    await step('a corrupt model shows an error notification with "Show log"', async () => {
      const row = p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'corrupt.onnx' }).first();
      await openContextEntry(p, row, 'Quantize to INT8', () => shot('02-context-menu.png'));
      const toast = p.locator('.notifications-toasts .notification-toast', { hasText: 'could not quantize corrupt.onnx' });
      await toast.waitFor({ timeout: 30_000 });
      const text = (await toast.textContent()) ?? '';
      await p.waitForTimeout(800);
      await shot('11-corrupt-model-error.png');
      await toast.locator('.monaco-button', { hasText: 'Show log' }).click();
      await p.locator('.part.panel', { hasText: 'Failed:' }).first().waitFor({ timeout: 15_000 });
      await shot('12-output-log.png');
      return text.slice(0, 200);
    });
    await step('the report webview logged no CSP violation or script error', async () => {
      if (webviewProblems.length > 0) throw new Error(webviewProblems.join(' | '));
    });
  } finally {
    await browser.close();
    runner.writeResults(resultsPath, 'ui');
  }
}

main().then(() => process.exit(runner.allOk ? 0 : 1), (err: unknown) => {
  console.error('UI test failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
