// Human-readable summaries of a run for the terminal (`octet` and the demo print them).
import { agreementLabel, primaryAgreement } from '../common/accuracy';
import type { AccuracyResult, BenchResult, Report } from '../common/report';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;

export function formatEval(a: AccuracyResult): string {
  const lines = [`samples: ${a.n}${a.labelled ? ' (labelled)' : ' (no labels)'}`];
  if (a.fp32 && a.int8) {
    lines.push(`top-1: FP32 ${pct(a.fp32.top1)}  INT8 ${pct(a.int8.top1)}  drop ${a.top1DropPoints?.toFixed(2)} points`);
    if (a.fp32.top5 !== null) lines.push(`top-5: FP32 ${pct(a.fp32.top5)}  INT8 ${pct(a.int8.top5)}`);
  }
  const agreement = primaryAgreement(a);
  const agreed = agreement ? `${agreementLabel(agreement.measure).toLowerCase()} ${pct(agreement.value)}, ` : '';
  lines.push(`${agreed}output SQNR ${a.outputSqnrDb.toFixed(1)} dB, cosine ${a.outputCosine.toFixed(5)}`);
  if ((a.outputs?.length ?? 0) > 1 || (a.outputs?.[0] && a.outputs[0].kind !== 'classification')) {
    for (const o of a.outputs ?? []) {
      const measured = o.agreement !== null ? `${pct(o.agreement)} ${o.agreementMeasure}, ` : '';
      lines.push(`  output ${o.name} (${o.kind} [${o.shape.join(',')}]): ${measured}SQNR ${o.sqnrDb.toFixed(1)} dB, cosine ${o.cosine.toFixed(5)}`);
    }
  }
  return lines.join('\n');
}

export function formatBench(b: BenchResult): string {
  const rate = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const throughput = b.throughput ? `; throughput FP32 ${rate(b.throughput.fp32)} img/s, INT8 ${rate(b.throughput.int8)} img/s` : '';
  return `batch ${b.batch}, ${b.threads} thread(s): FP32 ${b.fp32.medianMs.toFixed(2)} ms (p90 ${b.fp32.p90Ms.toFixed(2)}), `
    + `INT8 ${b.int8.medianMs.toFixed(2)} ms (p90 ${b.int8.p90Ms.toFixed(2)}), speedup ${b.speedup.toFixed(2)}x${throughput}`;
}

export function formatQuantizeSummary(r: Report, modelPath: string, reportPath: string): string {
  const lines = [
    `INT8 model: ${modelPath} (${mb(r.int8Model.bytes)}, FP32 ${mb(r.fp32Model.bytes)})`,
    `quantized ${r.quantizedNodes.length} nodes with ${r.settings.method} on ${r.calibration.images} samples in ${r.calibration.seconds.toFixed(1)} s; ${r.keptFloat.length} nodes kept in FP32`,
  ];
  if (r.accuracy) lines.push(formatEval(r.accuracy));
  for (const b of r.bench) lines.push(formatBench(b));
  if (r.speed && !r.speed.fasterThanFp32) {
    lines.push(`not faster than FP32: INT8 ${r.speed.int8Ms.toFixed(2)} ms vs FP32 ${r.speed.fp32Ms.toFixed(2)} ms (batch 1, 1 thread)`
      + (r.quantizedNodes.length === 0 ? '; the written model keeps every layer in FP32 (see the time profile)' : ''));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(`report: ${reportPath}`);
  return lines.join('\n');
}
