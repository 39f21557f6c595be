// Renders the benchmark's results as Markdown (printed and written to .cache/bench/): the machine line, one table per
// shared model with every method, the issue-12 verdict, the arch-zoo table, the detector-memory run, and each target
// beside the CPU it is for. Pure functions of the result objects items.mjs returns.

const f = (v, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(2)} %` : '—');
const x = (v) => (typeof v === 'number' ? `${v.toFixed(2)}x` : '—');
const bound = (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
const mb = (v) => (typeof v === 'number' ? String(Math.round(v)) : '—');
const row = (cells) => `| ${cells.join(' | ')} |`;
const header = (cells) => [row(cells), row(cells.map(() => '---'))];
/** Table cells must not contain pipes or newlines. */
const cell = (text, max = 220) => { const t = String(text).replace(/\|/g, '\\|').replace(/\s+/g, ' '); return t.length > max ? `${t.slice(0, max)}…` : t; };

function machineLine(machine, loadAtStart) {
  if (!machine) return `CPU: unknown (no Octet Report was written) · load average at start ${f(loadAtStart, 1)}`;
  const features = `VNNI ${machine.vnni ? 'yes' : 'no'}, AVX512 ${machine.avx512 ? 'yes' : 'no'}, AVX2 ${machine.avx2 ? 'yes' : 'no'}`;
  return `CPU: ${machine.cpu}, ${machine.cores} cores (${features}) · onnxruntime-node ${machine.ortVersion}, node ${machine.nodeVersion} · ` +
    `load average at start ${f(loadAtStart, 1)} (other processes on these cores make timings noisy)`;
}

/** One target: { label, measured, status: 'met' | 'missed' | 'not measured' | 'n/a …' }. */
function target(label, spec, measured, ok, machine) {
  const vnniOnly = /VNNI CPU/.test(spec.source);
  let status = measured === null ? 'not measured' : ok ? 'met' : 'missed';
  if (vnniOnly && machine && !machine.vnni && measured !== null) status += ' (target is for VNNI CPUs; this CPU has none)';
  return { label: `${label} (${spec.source})`, measured, status };
}

const octetOf = (r) => r.methods?.find((m) => m.kind === 'octet');
const peersOf = (r) => (r.methods ?? []).filter((m) => m.kind !== 'octet' && m.eval?.ok);

/** Issue-12 bar: Octet's agreement and SQNR ≥ the best peer's, at ≥ 0.97x ORT-tool-best speed. */
export function peerVerdict(r) {
  const octet = octetOf(r);
  const peers = peersOf(r);
  if (!octet?.eval?.ok) return { status: 'not measured', why: 'Octet has no evaluation' };
  if (peers.length === 0) return { status: 'not measured', why: 'no peer result' };
  const why = [];
  const bestAgreement = Math.max(...peers.map((p) => p.eval.agreement));
  const bestSqnr = Math.max(...peers.map((p) => p.eval.sqnr_db));
  const leader = (key, value) => peers.find((p) => p.eval[key] === value).method;
  if (r.kind === 'shared' && octet.eval.agreement < bestAgreement) why.push(`agreement ${pct(octet.eval.agreement)} < ${leader('agreement', bestAgreement)} ${pct(bestAgreement)}`);
  if (octet.eval.sqnr_db < bestSqnr) why.push(`SQNR ${f(octet.eval.sqnr_db)} dB < ${leader('sqnr_db', bestSqnr)} ${f(bestSqnr)} dB`);
  const ratio = octet.vsOrt?.ok ? octet.vsOrt.speedup : null;
  if (ratio === null) why.push('speed vs ORT-best not measured');
  else if (ratio < 0.97) why.push(`speed ${x(ratio)} of ORT-best < 0.97x`);
  const failed = (r.methods ?? []).filter((m) => m.kind !== 'octet' && !m.eval?.ok).map((m) => m.method);
  if (failed.length) why.push(`against ${peers.length} peer result(s); no result from ${failed.join(', ')}`);
  const missed = why.length > (failed.length ? 1 : 0);
  return { status: missed ? 'missed' : 'met', why: why.join('; ') };
}

export function targetsOf(r, machine) {
  const t = r.targets ?? {};
  const octet = octetOf(r);
  const out = [];
  const q = octet?.quantize;
  if (t.calibS) out.push(target(`calibration wall (quantize --no-eval --no-bench) ≤ ${t.calibS.value} s`, t.calibS, q?.ok ? `${f(q.wallS, 1)} s` : null, q?.wallS <= t.calibS.value, machine));
  if (t.sqnrDb) out.push(target(`output SQNR ≥ ${t.sqnrDb.value} dB`, t.sqnrDb, octet?.eval?.ok ? `${f(octet.eval.sqnr_db)} dB` : null, octet?.eval?.sqnr_db >= t.sqnrDb.value, machine));
  if (t.vsFp32) out.push(target(`speedup vs FP32 ≥ ${bound(t.vsFp32.value)}x (batch 1, 1 thread)`, t.vsFp32, octet?.speed?.ok ? x(octet.speed.speedup) : null, octet?.speed?.speedup >= t.vsFp32.value, machine));
  if (t.vsOrtMin) out.push(target(`speed vs ORT-tool-best INT8 ≥ ${t.vsOrtMin.value}x`, t.vsOrtMin, octet?.vsOrt?.ok ? x(octet.vsOrt.speedup) : null, octet?.vsOrt?.speedup >= t.vsOrtMin.value, machine));
  if (t.sqnrVsPeers) {
    const v = peerVerdict(r);
    out.push({ label: `agreement and SQNR ≥ best peer's at ≥ 0.97x ORT-best speed (${t.sqnrVsPeers})`, measured: v.why || 'all three', status: v.status, peerBar: true });
  }
  return out;
}

function failures(r) {
  const lines = [];
  for (const m of r.methods ?? []) {
    for (const [stage, res] of [['quantize', m.quantize], ['eval', m.eval], ['bench vs FP32', m.speed], ['bench vs ORT-best', m.vsOrt]]) {
      if (res && !res.ok) lines.push(`- ${m.method} ${stage} failed: ${res.error}`);
    }
  }
  return lines;
}

/** What the benchmark adapted for the peers (opset conversion, pre-processing fallback), once per distinct note. */
function peerNotes(r) {
  const notes = new Map();
  for (const m of r.methods ?? []) for (const n of m.quantize?.notes ?? []) notes.set(n, [...(notes.get(n) ?? []), m.method]);
  return [...notes].map(([n, who]) => `- for ${who.join(', ')}: ${n}`);
}

function octetNotes(r) {
  const octet = octetOf(r);
  const rep = octet?.quantize?.report;
  const lines = [];
  if (rep) {
    const ops = rep.int8RuntimeOps ?? {};
    const qdq = (ops.QuantizeLinear ?? 0) + (ops.DequantizeLinear ?? 0);
    lines.push(`- Octet: calibration stage ${f(rep.calibration?.seconds, 1)} s of ${f(octet.quantize.wallS, 1)} s wall; ` +
      `${rep.quantizedNodes?.length ?? 0} nodes quantized, ${qdq} QuantizeLinear/DequantizeLinear left in ORT's optimized INT8 graph` +
      `${rep.keptFloat?.length ? `, ${rep.keptFloat.length} kept float` : ''}${rep.profile ? '; per-layer profile in the Report' : ''}`);
  }
  const tp = r.throughput;
  if (tp?.ok) lines.push(`- Octet throughput, batch ${tp.batch}, ${tp.threads} threads: FP32 ${f(tp.fp32.samples_per_s, 1)} → INT8 ${f(tp.int8.samples_per_s, 1)} img/s (${x(tp.speedup)})`);
  else if (tp) lines.push(`- Octet throughput failed: ${tp.error}`);
  return lines;
}

/** Target lines; the issue-12 peer bar is printed as the verdict line instead. */
function targetLines(r, machine) {
  return targetsOf(r, machine).filter((t) => !t.peerBar).map((t) => `- target: ${t.label}: ${t.measured ?? '—'} — **${t.status}**`);
}

function sharedSection(r, machine) {
  const lines = [`### ${r.name}`, ''];
  if (r.error) return [...lines, `**not run**: ${r.error}`, ''];
  lines.push(`preprocessing ${r.preset}, input ${r.inputSize}; calibration ${r.calibCount} images, evaluation ${r.evalCount} other images`, '');
  lines.push(...header(['method', 'FP32 top-1', 'INT8 top-1', 'drop (pts)', 'agreement', 'SQNR (dB)', 'speedup vs FP32', 'vs ORT-best', 'quantize wall (s)', 'peak RSS (MB)']));
  for (const m of r.methods) {
    const e = m.eval?.ok ? m.eval : null;
    const vsOrt = m.best ? '1.00x (ref)' : m.vsOrt?.ok ? x(m.vsOrt.speedup) : '—';
    const name = `${m.method}${m.best ? ' ★' : ''}`;
    if (!m.quantize.ok) { lines.push(row([name, 'failed', ...Array(6).fill(''), f(m.quantize.wallS, 1), mb(m.quantize.peakMb)])); continue; }
    lines.push(row([name, pct(e?.fp32?.top1), pct(e?.int8?.top1), f(e?.top1_drop_points), pct(e?.agreement), f(e?.sqnr_db),
      m.speed?.ok ? x(m.speed.speedup) : '—', vsOrt, f(m.quantize.wallS, 1), mb(m.quantize.peakMb)]));
  }
  lines.push('');
  if (r.ortBest) lines.push(`★ ORT-best: ${r.ortBest} (highest agreement, then SQNR, of the ORT tool's x86 methods)`);
  lines.push(...octetNotes(r), ...peerNotes(r), ...failures(r), ...targetLines(r, machine));
  const v = peerVerdict(r);
  lines.push(`- **issue-12 verdict: ${v.status}**${v.why ? ` — ${v.why}` : ''}`, '');
  return lines;
}

function outputKinds(e) {
  if (!Array.isArray(e?.outputs)) return '';
  return e.outputs.map((o) => `${o.name}: ${o.kind}${typeof o.agreement === 'number' ? ` ${pct(o.agreement)}` : ''}`).join(', ');
}

function zooSection(results, machine) {
  const lines = ['## Architecture zoo (random weights: output SQNR/cosine vs FP32)', ''];
  if (results.length === 0) return [...lines, 'no zoo models found', ''];
  const r0 = results.find((r) => !r.error);
  if (r0) lines.push(`preprocessing torch; calibration ${r0.calibCount} ImageNet sample images, SQNR/cosine on ${r0.evalCount} other images; dynamic H/W at the size shown`, '');
  lines.push(...header(['model', 'input', 'Octet SQNR (dB)', 'cosine', 'ORT-best SQNR (dB)', 'Octet vs FP32', 'ORT-best vs FP32', 'Octet vs ORT-best', 'Octet quantize (s)', 'peak RSS (MB)', 'status']));
  const notes = [];
  for (const r of results) {
    if (r.error) { lines.push(row([r.id, '', '', '', '', '', '', '', '', '', cell(`not run: ${r.error}`)])); continue; }
    const o = octetOf(r);
    const best = r.methods.find((m) => m.best);
    const missed = targetsOf(r, machine).filter((t) => t.status.startsWith('missed')).map((t) => t.label.replace(/ \(.*$/, ''));
    const status = !o.quantize.ok ? `Octet failed: ${o.quantize.error}` : !o.eval?.ok ? `Octet eval failed: ${o.eval?.error}` : missed.length ? `missed: ${missed.join('; ')}` : 'ok';
    lines.push(row([r.id, r.inputSize, f(o.eval?.ok ? o.eval.sqnr_db : null), f(o.eval?.ok ? o.eval.cosine : null, 4),
      best ? `${f(best.eval.sqnr_db)} (${best.method.replace('ORT ', '')})` : '—', o.speed?.ok ? x(o.speed.speedup) : '—',
      best?.speed?.ok ? x(best.speed.speedup) : '—', o.vsOrt?.ok ? x(o.vsOrt.speedup) : '—', f(o.quantize.wallS, 1), mb(o.quantize.peakMb), cell(status)]));
    const kinds = outputKinds(o.eval);
    if (kinds) notes.push(`- ${r.id} outputs (Octet): ${kinds}`);
    notes.push(...[...peerNotes(r), ...failures(r).filter((l) => !l.startsWith('- Octet quantize'))].map((l) => l.replace('- ', `- ${r.id}: `)));
    if (r.targets?.sqnrVsPeers) { const v = peerVerdict(r); notes.push(`- ${r.id} **issue-12 verdict (vs ORT's tool): ${v.status}**${v.why ? ` — ${v.why}` : ''}`); }
    for (const t of targetsOf(r, machine).filter((t) => t.label.startsWith('speed vs ORT-tool-best'))) {
      notes.push(`- target: ${r.id} ${t.label}: ${t.measured ?? '—'} — **${t.status}**`);
    }
  }
  lines.push('', ...notes);
  const speed = results.flatMap((r) => targetsOf(r, machine).filter((t) => t.label.startsWith('speedup vs FP32')));
  const met = speed.filter((t) => t.status.startsWith('met')).length;
  lines.push(`- target: every zoo model ≥ 1.0x vs FP32 (issue 11, VNNI CPU${machine?.vnni === false ? '; this CPU has no VNNI' : ''}): met on ${met} of ${results.length}`, '');
  return lines;
}

function detectorSection(d) {
  if (!d) return [];
  const lines = [`## Detector memory: ${d.name}, calibration on ${d.calibCount} images (\`quantize --no-eval --no-bench\`)`, ''];
  lines.push(...header(['run', 'wall (s)', 'peak RSS (MB)', 'result']));
  const status = (q) => (q.ok ? 'ok' : cell(`failed: ${q.error}`));
  lines.push(row(['Octet', f(d.octet.wallS, 1), mb(d.octet.peakMb), status(d.octet)]));
  if (d.ort) lines.push(row(['ORT tool, x86 minmax (reference)', f(d.ort.wallS, 1), mb(d.ort.peakMb), status(d.ort)]));
  lines.push('');
  const t = d.targets;
  lines.push(`- target: peak RSS ≤ ${t.peakMb.value} MB (${t.peakMb.source}): ${mb(d.octet.peakMb)} MB — **${d.octet.ok && d.octet.peakMb <= t.peakMb.value ? 'met' : 'missed'}**`);
  lines.push(`- target: wall ≤ ${t.wallS.value} s (${t.wallS.source}): ${f(d.octet.wallS, 1)} s — **${d.octet.ok && d.octet.wallS <= t.wallS.value ? 'met' : 'missed'}**`, '');
  return lines;
}

/** The whole Markdown report of a saved run (the object bench.mjs writes as JSON). */
export function renderMarkdown(saved) {
  const { machine, peers, results, runs, only } = saved;
  return [
    `# Octet benchmark — ${saved.startedAt}`, '',
    machineLine(machine, saved.loadAtStart),
    `Peers: onnxruntime ${peers.available.ort ?? 'not available'}, NNCF ${peers.available.nncf ?? 'not available'}${peers.note ? ` (${peers.note})` : ''}. ` +
      `Every INT8 model measured by Octet: \`octet eval\` (accuracy vs FP32) and \`octet bench\` (batch 1, 1 thread, ${runs} interleaved runs, medians).`,
    `Run: ${only ? `--only ${only.join(',')}` : 'full'}, ${saved.minutes.toFixed(1)} min.`, '',
    ...(results.shared.length ? ['## Shared models (Octet defaults vs ORT tool x86 methods and NNCF defaults)', ''] : []),
    ...results.shared.flatMap((r) => sharedSection(r, machine)),
    ...(results.zoo.length ? zooSection(results.zoo, machine) : []),
    ...detectorSection(results.detector),
  ].join('\n');
}
