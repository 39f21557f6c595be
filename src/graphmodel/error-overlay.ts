// The report overlaid on the graph: the Report's per-layer SQNR and its time profile (time-profile.ts) mapped onto
// view nodes, what the colours show (accumulated or own error, INT8 time or gain) and the SQNR colour scale.
import type { LayerError, Report } from '../common/report';
import { NodeTimeOverlay, TimeMetric, timeColor, timeLabel, TimeOverlay, timeOverlayFromProfile } from './time-profile';
import { ViewNode } from './types';

export interface LayerOverlay {
  node: string;
  opType: string;
  tensor: string;
  sqnrDb: number;
  /** Noise this node adds itself, and its output's own Q/DQ error (reports from before these views lack them). */
  ownSqnrDb?: number;
  localSqnrDb?: number;
  weightSqnrDb?: number;
  /** Output SQNR gained with this layer alone in FP32, when accuracy-aware mode measured it. */
  sensitivityDb?: number;
  cosine: number;
  maxAbsError: number;
  clippedRatio: number;
}

export interface ErrorOverlay {
  /** Where it came from: a report file path, or 'quantize run'. */
  source: string;
  layers: LayerOverlay[];
  /** Output SQNR and top-1 drop of the whole model, when measured. */
  outputSqnrDb?: number;
  top1DropPoints?: number | null;
  /** Per-node FP32/INT8 time, when the report has a profile. */
  time?: TimeOverlay;
}

export function overlayFromReport(report: Pick<Report, 'layers'> & Partial<Pick<Report, 'accuracy' | 'sensitivity' | 'profile' | 'speed'>>,
  source: string): ErrorOverlay {
  const sensitivity = new Map((report.sensitivity ?? []).map((s) => [s.node, s.outputSqnrGainDb] as const));
  const layers = (report.layers ?? []).map((l: LayerError) => {
    const overlay: LayerOverlay = {
      node: l.node, opType: l.opType, tensor: l.tensor, sqnrDb: l.sqnrDb, cosine: l.cosine, maxAbsError: l.maxAbsError,
      clippedRatio: l.clippedRatio,
    };
    if (typeof l.ownSqnrDb === 'number') overlay.ownSqnrDb = l.ownSqnrDb;
    if (typeof l.localSqnrDb === 'number') overlay.localSqnrDb = l.localSqnrDb;
    if (typeof l.weightSqnrDb === 'number') overlay.weightSqnrDb = l.weightSqnrDb;
    const gain = sensitivity.get(l.node);
    if (gain !== undefined) overlay.sensitivityDb = gain;
    return overlay;
  });
  const overlay: ErrorOverlay = { source, layers };
  if (report.accuracy) {
    overlay.outputSqnrDb = report.accuracy.outputSqnrDb;
    overlay.top1DropPoints = report.accuracy.top1DropPoints;
  }
  if (report.profile) overlay.time = timeOverlayFromProfile(report.profile, report.speed);
  return overlay;
}

/** Error colours: the accumulated error at each output, or the error each layer adds itself. */
export type ErrorMetric = 'accumulated' | 'own';
/** What the colours show: one of the error views or one of the time views. */
export type OverlayMetric = ErrorMetric | TimeMetric;

export function isTimeMetric(metric: OverlayMetric): metric is TimeMetric {
  return metric === 'int8Ms' || metric === 'gain';
}

/** Lookup by node name, else (per-layer error only) by the compared output tensor (unnamed nodes). */
export class OverlayIndex {
  private byName = new Map<string, LayerOverlay>();
  private byTensor = new Map<string, LayerOverlay>();
  private timeByName = new Map<string, NodeTimeOverlay>();
  metric: OverlayMetric = 'accumulated';

  /** Whether the report has the own-error view (reports from before it only have the accumulated one). */
  get hasOwn(): boolean {
    return this.overlay.layers.some((l) => l.ownSqnrDb !== undefined);
  }

  get hasLayers(): boolean {
    return this.overlay.layers.length > 0;
  }

  /** Whether the report has a time profile (reports from before it, or not profiled, have none). */
  get hasTime(): boolean {
    return this.overlay.time !== undefined;
  }

  /** The SQNR the colours and labels show for a layer (own error falls back to accumulated when missing). */
  dbOf(layer: LayerOverlay): number {
    return this.metric === 'own' ? layer.ownSqnrDb ?? layer.sqnrDb : layer.sqnrDb;
  }

  /** Label drawn beside a node: '31.2 dB', or 'adds none' for a layer adding no error of its own. */
  labelOf(layer: LayerOverlay): string {
    const db = this.dbOf(layer);
    return this.metric === 'own' && db >= 200 ? 'adds none' : `${db.toFixed(1)} dB`;
  }

  constructor(readonly overlay: ErrorOverlay) {
    for (const l of overlay.layers) {
      if (l.node) this.byName.set(l.node, l);
      if (l.tensor) this.byTensor.set(l.tensor, l);
    }
    for (const t of overlay.time?.nodes ?? []) this.timeByName.set(t.node, t);
  }

  /** The profile's timing of an op node, by name. */
  timeForNode(node: ViewNode): NodeTimeOverlay | undefined {
    return node.kind === 'op' && node.name ? this.timeByName.get(node.name) : undefined;
  }

  /** The colour the current metric gives a node; null when it has no measurement under that metric. */
  colorFor(node: ViewNode): string | null {
    if (isTimeMetric(this.metric)) {
      const t = this.timeForNode(node);
      return t ? timeColor(t, this.metric) : null;
    }
    const layer = this.forNode(node);
    return layer ? sqnrColor(this.dbOf(layer)) : null;
  }

  /** The label drawn beside a node under the current metric, or null. */
  labelFor(node: ViewNode): string | null {
    if (isTimeMetric(this.metric)) {
      const t = this.timeForNode(node);
      return t ? timeLabel(t, this.metric) : null;
    }
    const layer = this.forNode(node);
    return layer ? this.labelOf(layer) : null;
  }

  forNode(node: ViewNode): LayerOverlay | undefined {
    if (node.kind !== 'op') return undefined;
    if (node.name) {
      const hit = this.byName.get(node.name);
      if (hit) return hit;
    }
    for (const o of node.outputs) {
      const hit = this.byTensor.get(o.name) ?? this.byName.get(o.name);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** SQNR bands of the legend, worst first: red below 10 dB to green at 40 dB and above. */
export const SQNR_LEGEND: { label: string; minDb: number }[] = [
  { label: '< 10 dB', minDb: -Infinity },
  { label: '10–20 dB', minDb: 10 },
  { label: '20–30 dB', minDb: 20 },
  { label: '30–40 dB', minDb: 30 },
  { label: '≥ 40 dB', minDb: 40 },
];

/** Continuous red -> amber -> green colour for an SQNR in dB. */
export function sqnrColor(db: number): string {
  const t = Number.isFinite(db) ? Math.min(1, Math.max(0, (db - 5) / 37)) : db > 0 ? 1 : 0;
  const hue = Math.round(t * 125);
  return `hsl(${hue}, 68%, 46%)`;
}

/** Colour of a legend band (its middle). */
export function legendColor(index: number): string {
  const mids = [5, 15, 25, 35, 45];
  return sqnrColor(mids[index] ?? 45);
}
