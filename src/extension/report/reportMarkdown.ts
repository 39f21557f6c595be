// The Report as a Markdown document (the panel's "Export Markdown"): the same numbers the panel shows.
import type { Report } from '../../common/report';
import {
  baseName, formatBytes, formatDb, formatMs, formatNumber, formatPercent, formatPoints, formatSpeedup, headlineBench, sizeRatio,
} from './format';

/** Escapes text for a Markdown table cell. */
function cell(text: string | number): string {
  return String(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: (string | number)[][]): string {
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export function reportToMarkdown(report: Report): string {
  const out: string[] = [];
  const fp32Name = baseName(report.fp32Model.path);
  out.push(`# Octet INT8 report — ${fp32Name}`, '');
  out.push(`FP32 \`${report.fp32Model.path}\` → INT8 \`${report.int8Model.path}\`  `);
  out.push(`Created ${report.createdAt} by Octet ${report.octetVersion} (report schema ${report.schemaVersion}).`, '');

  out.push('## Accuracy', '');
  const acc = report.accuracy;
  if (!acc) {
    out.push('Not evaluated.', '');
  } else {
    const rows: (string | number)[][] = [];
    if (acc.labelled && acc.fp32 && acc.int8) {
      rows.push(['Top-1', formatPercent(acc.fp32.top1), formatPercent(acc.int8.top1), formatPoints(acc.top1DropPoints)]);
      if (acc.fp32.top5 !== null && acc.int8.top5 !== null) {
        rows.push(['Top-5', formatPercent(acc.fp32.top5), formatPercent(acc.int8.top5), formatPoints((acc.fp32.top5 - acc.int8.top5) * 100)]);
      }
    }
    out.push(table(['Metric', 'FP32', 'INT8', 'Drop'], rows.length > 0 ? rows : [['(unlabelled)', '—', '—', '—']]), '');
    out.push(`${acc.n} images. FP32/INT8 top-1 agreement ${formatPercent(acc.agreement)}, output SQNR ${formatDb(acc.outputSqnrDb)}, `
      + `cosine ${formatNumber(acc.outputCosine)}.`, '');
  }

  out.push('## Latency', '');
  if (report.bench.length === 0) {
    out.push('Not benchmarked.', '');
  } else {
    const { singleThread, allThreads } = headlineBench(report);
    const headline = [singleThread, allThreads].filter((b) => b !== null)
      .map((b) => `${formatSpeedup(b.speedup)} faster with ${b.threads} thread${b.threads === 1 ? '' : 's'}`);
    out.push(`Batch 1: ${headline.join(', ')}.`, '');
    out.push(table(['Threads', 'Batch', 'FP32 median', 'FP32 p90', 'INT8 median', 'INT8 p90', 'Speedup'],
      report.bench.map((b) => [b.threads, b.batch, formatMs(b.fp32.medianMs), formatMs(b.fp32.p90Ms), formatMs(b.int8.medianMs),
        formatMs(b.int8.p90Ms), formatSpeedup(b.speedup)])), '');
  }

  out.push('## Size', '');
  const ratio = sizeRatio(report);
  out.push(`FP32 ${formatBytes(report.fp32Model.bytes)} → INT8 ${formatBytes(report.int8Model.bytes)}`
    + `${ratio !== null ? ` (${formatPercent(ratio, 1)} of FP32)` : ''}.`, '');

  out.push('## Per-layer error', '');
  if (report.layers.length === 0) out.push('No per-layer measurements.', '');
  else {
    out.push(table(['Node', 'Op', 'SQNR', 'Cosine', 'Max abs error', 'Clipped', 'Scale', 'Zero point'],
      report.layers.map((l) => [l.node, l.opType, formatDb(l.sqnrDb), formatNumber(l.cosine), formatNumber(l.maxAbsError),
        formatPercent(l.clippedRatio, 3), formatNumber(l.scale), l.zeroPoint])), '');
  }

  out.push('## Kept in FP32', '');
  if (report.keptFloat.length === 0) out.push('Every quantizable op was quantized.', '');
  else out.push(table(['Node', 'Op', 'Why'], report.keptFloat.map((k) => [k.node, k.opType, k.reason])), '');

  if (report.warnings.length > 0) {
    out.push('## Warnings', '');
    for (const warning of report.warnings) out.push(`- ${warning.replace(/\r?\n/g, ' ')}`);
    out.push('');
  }

  const s = report.settings;
  out.push('## Settings', '');
  out.push(table(['Setting', 'Value'], [
    ['Method', s.method + (s.method === 'percentile' ? ` (${s.percentile})` : '')],
    ['Weights', s.perChannel ? 'per-channel' : 'per-tensor'],
    ['Activations', s.activations],
    ['Weight range', s.weightRange],
    ['Calibration images', `${s.calibCount} (batch ${s.calibBatch})`],
    ['Preprocessing', s.preprocess + (s.resize ? `, resize ${s.resize}` : '') + (s.crop ? `, crop ${s.crop}` : '') + (s.layout ? `, ${s.layout}` : '')],
    ['Op types', s.opTypes.length > 0 ? s.opTypes.join(', ') : 'all supported'],
    ['Excluded nodes', s.exclude.length > 0 ? s.exclude.join(', ') : 'none'],
    ['Calibration data', `${report.calibration.dataset.path} (${report.calibration.images} images, ${report.calibration.seconds.toFixed(1)} s)`],
  ]), '');

  const m = report.machine;
  out.push('## Machine', '');
  out.push(`${m.cpu}, ${m.cores} cores (VNNI ${m.vnni ? 'yes' : 'no'}, AVX-512 ${m.avx512 ? 'yes' : 'no'}, AVX2 ${m.avx2 ? 'yes' : 'no'}); `
    + `ONNX Runtime ${m.ortVersion}, Node ${m.nodeVersion}, ${m.platform}.`, '');
  return out.join('\n');
}
