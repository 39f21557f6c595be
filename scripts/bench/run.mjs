// Runs one child process for the benchmark and never throws: wall time, peak RSS (`/usr/bin/time -f %M`, the largest
// single process), a memory cap and a time limit enforced by a watchdog that kills the child's own process group (so a
// run that would exhaust this shared machine's memory ends as a reported failure), and the one error line to print.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TIME = '/usr/bin/time';
const PEAK_TAG = 'BENCH_PEAK_KB=';
/** Lines a child prints to tell the benchmark something (peer-geometry.py's adaptations): never the error line. */
export const NOTE_PREFIX = 'bench-peer-note: ';
const PAGE_KB = 4;
const WATCH_MS = 250;

/** RSS in MB of every process in process group `pgid` (the child and whatever it started). */
function groupRssMb(pgid) {
  let kb = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    // Fields after the command name (which may hold spaces) start at state; pgrp is the 3rd, rss the 22nd of those.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) kb += Number(fields[21]) * PAGE_KB;
  }
  return kb / 1024;
}

/** The line that says what went wrong: Octet's `octet: error: …`, else a Python exception line, else the last line. */
export function errorLine(stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith(PEAK_TAG) && !l.startsWith(NOTE_PREFIX) && !/^Command (exited|terminated)/.test(l));
  const pick = lines.find((l) => /^octet: (internal )?error/.test(l))
    ?? [...lines].reverse().find((l) => /^[A-Za-z_.]*(Error|Exception)\b/.test(l))
    ?? lines.at(-1) ?? '(no output)';
  return pick.length > 400 ? `${pick.slice(0, 400)}…` : pick;
}

/**
 * Runs `command args` and resolves { ok, code, seconds, peakMb, stdout, stderr, error } — error is null on success,
 * else one line (the error the tool printed, or why the watchdog stopped it).
 * options: env, cwd, memCapMb (kill above this group RSS), timeoutS, label (for the log line).
 */
export function runChild(command, args, options = {}) {
  const useTime = existsSync(TIME);
  const [file, argv] = useTime ? [TIME, ['-f', `${PEAK_TAG}%M`, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  return new Promise((resolveRun) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let stopped = null;
    let watchedPeakMb = 0;
    const stop = (why) => {
      if (stopped) return;
      stopped = why;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
    const watchdog = setInterval(() => {
      const rss = groupRssMb(child.pid);
      watchedPeakMb = Math.max(watchedPeakMb, rss);
      if (options.memCapMb && rss > options.memCapMb) stop(`stopped by the benchmark: memory ${(rss / 1024).toFixed(1)} GB passed the cap of ${(options.memCapMb / 1024).toFixed(1)} GB (--mem-cap-gb)`);
    }, WATCH_MS);
    const timer = options.timeoutS ? setTimeout(() => stop(`stopped by the benchmark after ${options.timeoutS} s (--timeout-min)`), options.timeoutS * 1000) : null;
    const finish = (code, spawnError) => {
      clearInterval(watchdog);
      if (timer) clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const tagged = stderr.split('\n').reverse().find((l) => l.startsWith(PEAK_TAG));
      const peakMb = tagged ? Number(tagged.slice(PEAK_TAG.length)) / 1024 : watchedPeakMb || null;
      const ok = !stopped && !spawnError && code === 0;
      const error = ok ? null : stopped ?? (spawnError ? `cannot start ${command}: ${spawnError.message}` : `exit ${code}: ${errorLine(stderr)}`);
      resolveRun({ ok, code, seconds, peakMb: stopped ? Math.max(peakMb ?? 0, watchedPeakMb) : peakMb, stdout, stderr, error });
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code, null));
  });
}

/** Parses a child's stdout as JSON; null (and a reason in `result.error`) when it is not. */
export function jsonOf(result) {
  if (!result.ok) return null;
  try {
    return JSON.parse(result.stdout);
  } catch (e) {
    result.ok = false;
    result.error = `output is not JSON: ${e.message}`;
    return null;
  }
}
