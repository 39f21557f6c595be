// Progress and log events the engine emits; the CLI prints them (text or JSON lines on stderr) and the VS Code
// extension parses them back (src/extension/quantize/engine-events.ts) into a progress notification.

/** The pipeline's stages, in the order a run visits them first. */
export const ENGINE_STAGES = ['optimize', 'calibrate', 'convert', 'evaluate', 'write', 'benchmark'] as const;
export type Stage = (typeof ENGINE_STAGES)[number];

export interface EngineProgressEvent { type: 'progress'; stage: Stage; done: number; total: number; message: string }
export interface EngineLogEvent { type: 'log'; message: string }
export interface EngineResultEvent { type: 'result'; model: string; report: string }
export interface EngineErrorEvent { type: 'error'; subject: string; message: string }
export type EngineEvent = EngineProgressEvent | EngineLogEvent | EngineResultEvent | EngineErrorEvent;

export type EventSink = (event: EngineEvent) => void;
