// The peers: ONNX Runtime's Python quantization tool (x86 settings, each calibration method) and NNCF (defaults), run
// through ../shared/peers' scripts on the same calibration folder as Octet. Finds the Python that setup.sh prepares
// (or OCTET_PEERS_PYTHON), checks what imports, and makes each peer's INT8 model; never throws.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOTE_PREFIX, runChild } from './run.mjs';
import { peerGeometry } from './suite.mjs';

const SHIM = join(dirname(fileURLToPath(import.meta.url)), 'peer-geometry.py');
/** ORT's tool gets models below this opset converted first: it writes per-channel DequantizeLinear (`axis`, opset 13). */
const ORT_MIN_OPSET = 13;

export class Peers {
  /** available: { ort: version | null, nncf: version | null }, note: why something is missing. */
  constructor(peersDir, python, available, note, limits) {
    Object.assign(this, { peersDir, python, available, note, limits });
  }

  /** Sets the peers up (setup.sh; a no-op when its venv already imports everything) and checks the imports. */
  static async find(shared, { skip, limits }) {
    const peersDir = resolve(shared, 'peers');
    const none = (note) => new Peers(peersDir, null, { ort: null, nncf: null }, note, limits);
    if (skip) return none('skipped (--skip-peers)');
    let python = process.env.OCTET_PEERS_PYTHON ?? null;
    if (!python) {
      if (!existsSync(join(peersDir, 'setup.sh'))) return none(`${peersDir}/setup.sh not found`);
      console.error('bench: setting up the peers (../shared/peers/setup.sh; minutes the first time)');
      const r = await runChild('bash', [join(peersDir, 'setup.sh')], { timeoutS: 1800 });
      if (!r.ok) return none(`setup.sh failed: ${r.error}`);
      python = r.stdout.trim().split('\n').at(-1);
    }
    const version = async (module, env) => {
      const r = await runChild(python, ['-c', `import ${module}; print(${module}.__version__)`], { env, timeoutS: 300 });
      return r.ok ? r.stdout.trim() : null;
    };
    const ort = await version('onnxruntime');
    const nncf = await version('nncf', { PYTHONPATH: join(peersDir, 'nncf-src/src') });
    const missing = [!ort && 'onnxruntime', !nncf && 'nncf'].filter(Boolean);
    return new Peers(peersDir, python, { ort, nncf }, missing.length ? `${missing.join(', ')} not importable with ${python}` : null, limits);
  }

  /** Runs a peers' script through the shim (geometry, minimum opset, pre-processing fallback); notes = what it adapted. */
  async runScript(script, args, geometry, minOpset, cwd, env) {
    // cwd: the item's work folder, where ORT's shape inference and quantizer leave their temporary files.
    const r = await runChild(this.python, [SHIM, String(geometry.crop), String(geometry.resize), String(minOpset), join(this.peersDir, script), ...args],
      { ...this.limits, cwd, env });
    r.notes = r.stderr.split('\n').filter((l) => l.startsWith(NOTE_PREFIX)).map((l) => l.slice(NOTE_PREFIX.length));
    return r;
  }

  /** One peer INT8 model: { ok, error, wallS, peakMb, quantizerS (the tool's own time, images decoded first), notes, path }. */
  async quantize(kind, { model, preset, calib, count, size, out, method }) {
    const geometry = peerGeometry(size);
    const common = [model, '--preset', preset, '--calib', calib, '--count', String(count), '--out', out];
    const r = kind === 'ort'
      ? await this.runScript('ort_quant.py', [...common, '--mode', 'x86', '--method', method], geometry, ORT_MIN_OPSET, dirname(out))
      : await this.runScript('nncf_quant.py', common, geometry, 0, dirname(out), { PYTHONPATH: join(this.peersDir, 'nncf-src/src') });
    let quantizerS = null;
    try { quantizerS = JSON.parse(readFileSync(`${out}.timing.json`, 'utf8')).quantizer_s ?? null; } catch { /* no timing file */ }
    return { ok: r.ok, error: r.error, wallS: r.seconds, peakMb: r.peakMb, quantizerS, notes: r.notes, path: r.ok ? out : null };
  }
}
