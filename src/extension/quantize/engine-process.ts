// Runs the Octet engine (dist/engine.js) as a child process of the extension host — never inside it — and reports
// its JSON-line events. Cancel: SIGTERM, then SIGKILL if it is still alive after a grace period.
// No vscode here, so it can be tested with plain node.
import { ChildProcess, spawn } from 'node:child_process';
import type { EngineErrorEvent, EngineEvent, EngineResultEvent } from '../../engine/events';
import { LineSplitter, parseEngineLine } from './engine-events';

export interface EngineLaunch {
  /** The Node (or Electron-as-Node) binary: the extension host's own `process.execPath`. */
  nodeExecutable: string;
  engineScript: string;
  args: string[];
  cwd: string;
  /** Each parsed `--progress json` event from stderr. */
  onEvent(event: EngineEvent): void;
  /** Every other output line (stdout, and stderr lines that are not events). */
  onText(line: string, stream: 'stdout' | 'stderr'): void;
  /** How long SIGTERM gets before SIGKILL. */
  killGraceMs?: number;
}

export interface EngineExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when cancel() stopped it. */
  cancelled: boolean;
  result: EngineResultEvent | null;
  /** The engine's own error event, when it sent one. */
  error: EngineErrorEvent | null;
  /** Set when the process could not be started at all. */
  spawnError: Error | null;
  /** The last non-event stderr lines, to explain a crash. */
  stderrTail: string[];
  elapsedMs: number;
}

const STDERR_TAIL_LINES = 20;

/**
 * How long a cancelled engine gets to stop at its next check and remove its temp folder before SIGKILL. ResNet-50
 * took 0.2–1.1 s after SIGTERM (its first conversion is 0.85 s of JavaScript with no check of its own); killed before
 * that, an engine leaves its folder — a copy of the model among others — in the system's temp folder.
 */
const DEFAULT_KILL_GRACE_MS = 5000;

export class EngineProcess {
  readonly finished: Promise<EngineExit>;
  private readonly child: ChildProcess;
  private cancelled = false;
  private exited = false;
  private readonly killGraceMs: number;

  constructor(launch: EngineLaunch) {
    this.killGraceMs = launch.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const started = Date.now();
    this.child = spawn(launch.nodeExecutable, [launch.engineScript, ...launch.args], {
      cwd: launch.cwd,
      // In VS Code desktop process.execPath is Electron; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let result: EngineResultEvent | null = null;
    let error: EngineErrorEvent | null = null;
    let spawnError: Error | null = null;
    const stderrTail: string[] = [];
    const stderrLines = new LineSplitter();
    const stdoutLines = new LineSplitter();
    const onStderrLine = (line: string) => {
      const event = parseEngineLine(line);
      if (!event) {
        stderrTail.push(line);
        if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        launch.onText(line, 'stderr');
        return;
      }
      if (event.type === 'result') result = event;
      if (event.type === 'error') error = event;
      launch.onEvent(event);
    };
    this.child.stderr?.setEncoding('utf8');
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => stderrLines.push(chunk).forEach(onStderrLine));
    this.child.stdout?.on('data', (chunk: string) => stdoutLines.push(chunk).forEach((l) => launch.onText(l, 'stdout')));
    this.finished = new Promise<EngineExit>((resolve) => {
      this.child.once('error', (err) => {
        spawnError = err;
        this.exited = true;
        resolve({ exitCode: null, signal: null, cancelled: this.cancelled, result, error, spawnError, stderrTail,
          elapsedMs: Date.now() - started });
      });
      this.child.once('close', (exitCode, signal) => {
        this.exited = true;
        stderrLines.flush().forEach(onStderrLine);
        stdoutLines.flush().forEach((l) => launch.onText(l, 'stdout'));
        resolve({ exitCode, signal, cancelled: this.cancelled, result, error, spawnError, stderrTail,
          elapsedMs: Date.now() - started });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Stops the engine: SIGTERM now, SIGKILL after the grace period. Resolves once the process has exited. */
  async cancel(): Promise<EngineExit> {
    if (!this.exited) {
      this.cancelled = true;
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!this.exited) this.child.kill('SIGKILL');
      }, this.killGraceMs);
      try {
        await this.finished;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.finished;
  }
}
