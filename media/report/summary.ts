// The top of the report: accuracy, speed and size cards, and the full latency table.
import { agreementLabel, primaryAgreement } from '../../src/common/accuracy';
import type { Report } from '../../src/common/report';
import {
  formatBytes, formatDb, formatMs, formatNumber, formatPercent, formatPoints, formatSpeedup, formatThroughput, headlineBench,
  headlineThroughput, sizeRatio, throughputOf,
} from '../../src/report/format';
import { el } from './dom';

/** A drop above this many points is shown in the warning color. */
const NOTABLE_DROP_POINTS = 1;

function value(id: string, raw: number | null | undefined, text: string, extraClass?: string): HTMLElement {
  return el('span', { id, class: ['value', extraClass].filter(Boolean).join(' '), data: { value: raw ?? '' } }, text);
}

function row(label: string, ...content: (Node | string)[]): HTMLElement {
  return el('div', { class: 'row' }, el('span', { class: 'label' }, label), el('span', { class: 'content' }, ...content));
}

function accuracyCard(report: Report): HTMLElement {
  const acc = report.accuracy;
  const card = el('section', { class: 'card', id: 'card-accuracy' }, el('h2', {}, 'Accuracy'));
  if (!acc) {
    card.append(el('p', { class: 'muted' }, 'Not evaluated (evaluation was switched off).'));
    return card;
  }
  const agreement = primaryAgreement(acc);
  if (acc.labelled && acc.fp32 && acc.int8) {
    const drop = acc.top1DropPoints;
    card.append(
      el('div', { class: 'headline' }, value('acc-int8-top1', acc.int8.top1, formatPercent(acc.int8.top1)), el('span', { class: 'unit' }, ' INT8 top-1')),
      row('FP32 top-1', value('acc-fp32-top1', acc.fp32.top1, formatPercent(acc.fp32.top1))),
      row('Top-1 drop', value('acc-drop', drop, formatPoints(drop), drop !== null && drop > NOTABLE_DROP_POINTS ? 'warn' : 'good')),
    );
    if (acc.fp32.top5 !== null && acc.int8.top5 !== null) {
      card.append(row('Top-5', value('acc-fp32-top5', acc.fp32.top5, formatPercent(acc.fp32.top5)), ' → ',
        value('acc-int8-top5', acc.int8.top5, formatPercent(acc.int8.top5))));
    }
  } else if (agreement) {
    card.append(el('div', { class: 'headline' }, value('acc-agreement-headline', agreement.value, formatPercent(agreement.value)),
      el('span', { class: 'unit' }, ` ${agreement.measure} as FP32`)),
      el('p', { class: 'muted' }, acc.agreement === null ? `Not a classifier: ${agreementLabel(agreement.measure).toLowerCase()} of output ${agreement.output}.`
        : 'No labels: INT8 is compared with FP32.'));
  }
  card.append(
    row(agreement ? agreementLabel(agreement.measure) : 'Agreement', value('acc-agreement', agreement?.value, formatPercent(agreement?.value))),
    row('Output SQNR', value('acc-sqnr', acc.outputSqnrDb, formatDb(acc.outputSqnrDb))),
    row('Output cosine', value('acc-cosine', acc.outputCosine, formatNumber(acc.outputCosine))),
    row('Images', value('acc-n', acc.n, acc.n.toLocaleString('en-US'))),
  );
  return card;
}

function speedCard(report: Report): HTMLElement {
  const card = el('section', { class: 'card', id: 'card-speed' }, el('h2', {}, 'Speed'));
  const { singleThread, allThreads } = headlineBench(report);
  if (!singleThread) {
    card.append(el('p', { class: 'muted' }, 'Not benchmarked (benchmark was switched off).'));
    return card;
  }
  const speedClass = (s: number) => (s >= 1 ? 'good' : 'warn');
  card.append(el('div', { class: 'headline' },
    value('speedup-1t', singleThread.speedup, formatSpeedup(singleThread.speedup), speedClass(singleThread.speedup)),
    el('span', { class: 'unit' }, ` faster, ${singleThread.threads} thread${singleThread.threads === 1 ? '' : 's'}`)));
  card.append(row(`${singleThread.threads} thread${singleThread.threads === 1 ? '' : 's'}`,
    value('lat-fp32-1t', singleThread.fp32.medianMs, formatMs(singleThread.fp32.medianMs)), ' → ',
    value('lat-int8-1t', singleThread.int8.medianMs, formatMs(singleThread.int8.medianMs))));
  if (allThreads) {
    card.append(row(`${allThreads.threads} threads`,
      value('lat-fp32-nt', allThreads.fp32.medianMs, formatMs(allThreads.fp32.medianMs)), ' → ',
      value('lat-int8-nt', allThreads.int8.medianMs, formatMs(allThreads.int8.medianMs)), ' (',
      value('speedup-nt', allThreads.speedup, formatSpeedup(allThreads.speedup), speedClass(allThreads.speedup)), ')'));
  }
  const batched = headlineThroughput(report);
  const rate = batched ? throughputOf(batched) : null;
  if (batched && rate) {
    card.append(row(`Batch ${batched.batch}, ${batched.threads} thread${batched.threads === 1 ? '' : 's'}`,
      value('tput-fp32', rate.fp32, formatThroughput(rate.fp32)), ' → ',
      value('tput-int8', rate.int8, formatThroughput(rate.int8), speedClass(batched.speedup))));
  }
  card.append(el('p', { class: 'muted' }, `Batch ${singleThread.batch} latency medians; FP32 → INT8.${rate ? ' Throughput in images per second.' : ''}`));
  return card;
}

function sizeCard(report: Report): HTMLElement {
  const ratio = sizeRatio(report);
  return el('section', { class: 'card', id: 'card-size' }, el('h2', {}, 'Model size'),
    el('div', { class: 'headline' }, value('size-int8', report.int8Model.bytes, formatBytes(report.int8Model.bytes)), el('span', { class: 'unit' }, ' INT8')),
    row('FP32', value('size-fp32', report.fp32Model.bytes, formatBytes(report.fp32Model.bytes))),
    row('INT8 / FP32', value('size-ratio', ratio, formatPercent(ratio, 1))),
    row('Quantized ops', value('quantized-count', report.quantizedNodes.length, String(report.quantizedNodes.length))),
    row('Kept in FP32', value('kept-count', report.keptFloat.length, String(report.keptFloat.length))));
}

export function summaryCards(report: Report): HTMLElement {
  return el('div', { class: 'cards' }, accuracyCard(report), speedCard(report), sizeCard(report));
}

export function latencyTable(report: Report): HTMLElement | null {
  if (report.bench.length === 0) return null;
  const head = el('tr', {}, ...['Threads', 'Batch', 'FP32 median', 'FP32 p90', 'INT8 median', 'INT8 p90', 'Speedup', 'Runs',
    'FP32 throughput', 'INT8 throughput'].map((t) => el('th', { class: 'num' }, t)));
  const rows = report.bench.map((b) => el('tr', {},
    el('td', { class: 'num' }, b.threads), el('td', { class: 'num' }, b.batch),
    el('td', { class: 'num' }, formatMs(b.fp32.medianMs)), el('td', { class: 'num' }, formatMs(b.fp32.p90Ms)),
    el('td', { class: 'num' }, formatMs(b.int8.medianMs)), el('td', { class: 'num' }, formatMs(b.int8.p90Ms)),
    el('td', { class: `num ${b.speedup >= 1 ? 'good' : 'warn'}` }, formatSpeedup(b.speedup)),
    el('td', { class: 'num' }, `${b.fp32.runs} / ${b.int8.runs}`),
    el('td', { class: 'num' }, formatThroughput(throughputOf(b)?.fp32)), el('td', { class: 'num' }, formatThroughput(throughputOf(b)?.int8))));
  return el('section', { id: 'latency' }, el('h2', {}, 'Latency'),
    el('table', { class: 'data', id: 'latency-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}
