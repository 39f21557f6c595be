// Progress and log events the engine emits; the CLI prints them (text or JSON lines on stderr) and the VS Code
// extension turns them into a progress notification.
export type Stage = 'optimize' | 'calibrate' | 'convert' | 'write' | 'evaluate' | 'benchmark';

export type EngineEvent =
  | { type: 'progress'; stage: Stage; done: number; total: number; message: string }
  | { type: 'log'; message: string }
  | { type: 'result'; model: string; report: string }
  | { type: 'error'; subject: string; message: string };

export type EventSink = (event: EngineEvent) => void;
