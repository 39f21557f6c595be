// The Report as a Markdown document: `octet report --format md` and the report panel's "Export Markdown".
// Pure (Report → string). Text from the model or the file system (node names, paths, warnings) is escaped so it can
// neither break a table nor inject markup.
import type { Report } from '../common/report';
import {
  formatBytes, formatPercent, formatSpeedup, formatThroughput, headlineBench, headlineThroughput, sizeRatio, throughputOf,
} from './format';
import {
  accuracyTable, agreementTable, outputsTable, benchLabel, benchResults, keptFloatTable, latencyTable, layersTable, machineTable, modelTable,
  NO_PROFILE, NO_SPEED_DECISIONS, notFasterSentence, profileSummary, readTimeSection, readTuning, reportTitle, runtimeOpsTable,
  sensitivityTable, settingsTable, paddedInputsSentence, SPEED_DECISIONS_CAPTION, speedDecisionsTable, speedFacts, Table, TIME_BY_OP_CAPTION, timeByOpTable,
  timeNodesCaption, timeNodesTable, tuningTable,
} from './tables';

/** Escapes text for Markdown (inline text and table cells): markup characters, HTML, pipes, line breaks. */
export function mdEscape(text: string | number): string {
  return String(text)
    .replace(/[\\`*_[\]#~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n|\r/g, ' ');
}

/** A code span holding any text: the fence is longer than any backtick run inside. */
function code(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function table(t: Table): string {
  const align = t.header.map((_, i) => (t.numeric?.includes(i) ? '---:' : '---'));
  const lines = [`| ${t.header.map(mdEscape).join(' | ')} |`, `| ${align.join(' | ')} |`];
  for (const row of t.rows) lines.push(`| ${row.map(mdEscape).join(' | ')} |`);
  return lines.join('\n');
}

/** Where the time goes: the verdict when INT8 did not pay, the top nodes and op types, the speed-aware choice. */
function timeSection(report: Report): string[] {
  const time = readTimeSection(report);
  if (!time) return [];
  const out = ['## Where the time goes', ''];
  const notFaster = notFasterSentence(report);
  if (notFaster) out.push(`**${mdEscape(notFaster)}**`, '');
  const padded = paddedInputsSentence(report);
  if (padded) out.push(mdEscape(padded), '');
  if (time.profile) {
    const nodes = timeNodesTable(time.profile);
    out.push(mdEscape(profileSummary(time.profile)), '', mdEscape(timeNodesCaption(nodes.rows.length, time.profile)), '', table(nodes), '',
      mdEscape(TIME_BY_OP_CAPTION), '', table(timeByOpTable(time.profile)), '');
  } else {
    out.push(NO_PROFILE, '');
  }
  if (time.speed) {
    out.push('### Speed-aware choice', '', table({ header: ['Speed-aware choice', 'Value'], rows: speedFacts(time.speed) }), '');
    const decisions = speedDecisionsTable(time.speed);
    out.push(...(decisions ? [mdEscape(SPEED_DECISIONS_CAPTION), '', table(decisions)] : [mdEscape(NO_SPEED_DECISIONS)]), '');
  }
  return out;
}

export function reportToMarkdown(report: Report): string {
  const out: string[] = [];
  out.push(`# ${mdEscape(reportTitle(report))}`, '');
  out.push(`FP32 ${code(report.fp32Model.path)} → INT8 ${code(report.int8Model.path)}  `);
  out.push(`Created ${mdEscape(report.createdAt)} by Octet ${mdEscape(report.octetVersion)} (report schema ${report.schemaVersion}).`, '');

  const warnings = Array.isArray(report.warnings) ? report.warnings.filter((w) => typeof w === 'string') : [];
  if (warnings.length > 0) {
    out.push('## Warnings', '');
    for (const warning of warnings) out.push(`- ${mdEscape(warning)}`);
    out.push('');
  }

  out.push('## Accuracy', '');
  const acc = accuracyTable(report);
  const agreement = agreementTable(report);
  if (!agreement) out.push('Not evaluated.', '');
  else {
    if (acc) out.push(table(acc), '');
    else out.push('The evaluation data had no labels: INT8 is compared with FP32 outputs only.', '');
    out.push(table(agreement), '');
    const outputs = outputsTable(report);
    if (outputs) out.push('Per output (the agreement measure that fits each kind of output):', '', table(outputs), '');
  }

  out.push('## Latency', '');
  const latency = latencyTable(report);
  if (!latency) out.push('Not benchmarked.', '');
  else {
    const { singleThread, allThreads } = headlineBench({ ...report, bench: benchResults(report) });
    const headline = [singleThread, allThreads].filter((b) => b !== null)
      .map((b) => `${formatSpeedup(b.speedup)} faster with ${benchLabel(b)}`);
    out.push(`Batch 1: ${headline.join(', ')}.`, '');
    const batched = headlineThroughput({ ...report, bench: benchResults(report) });
    const rate = batched ? throughputOf(batched) : null;
    if (batched && rate) {
      out.push(`Throughput at batch ${batched.batch} with ${batched.threads} thread${batched.threads === 1 ? '' : 's'}: `
        + `FP32 ${formatThroughput(rate.fp32)} → INT8 ${formatThroughput(rate.int8)} (${formatSpeedup(batched.speedup)}).`, '');
    }
    out.push(table(latency), '');
  }

  out.push(...timeSection(report));

  out.push('## Model', '');
  const ratio = sizeRatio(report);
  out.push(`FP32 ${formatBytes(report.fp32Model.bytes)} → INT8 ${formatBytes(report.int8Model.bytes)}`
    + `${ratio !== null ? ` (${formatPercent(ratio, 1)} of FP32)` : ''}.`, '');
  out.push(table(modelTable(report)), '');

  out.push('## Per-layer error', '');
  const layers = layersTable(report);
  if (!layers) out.push('No per-layer measurements.', '');
  else {
    out.push('Accumulated FP32-vs-INT8 error at each quantized output, worst SQNR first. Own SQNR: the error the node adds itself (lower adds more); Q/DQ SQNR: its output’s own rounding and clipping on FP32 values.', '');
    out.push(table(layers), '');
  }
  const sensitive = sensitivityTable(report);
  if (sensitive) {
    out.push(`Effect on the output, measured: output SQNR gained when each layer alone returns to FP32 (${sensitive.table.rows.length} most sensitive of ${sensitive.measured} measured).`, '', table(sensitive.table), '');
  }

  out.push('## Kept in FP32', '');
  const kept = keptFloatTable(report);
  out.push(kept ? table(kept) : 'Every quantizable op was quantized.', '');

  out.push('## Ops ONNX Runtime runs', '');
  const ops = runtimeOpsTable(report);
  out.push(ops ? table(ops) : 'No op histogram in this report.', '');

  const tuning = readTuning(report);
  if (tuning) {
    out.push('## Tuning', '');
    if (tuning.facts.length > 0) out.push(table({ header: ['Tuning', 'Value'], rows: tuning.facts }), '');
    const trials = tuningTable(tuning);
    if (trials) out.push(table(trials), '');
  }

  out.push('## Settings', '');
  out.push(table(settingsTable(report)), '');

  out.push('## Machine', '');
  out.push(table(machineTable(report)), '');
  return out.join('\n');
}
