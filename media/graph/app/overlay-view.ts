// Which report view colours the graph: per-layer error (accumulated or own) or time (INT8 ms or gain), from what the
// user chose (saved state) and what the report has; and how the toolbar's toggles change that choice.
import { OverlayIndex } from '../../../src/graphmodel/error-overlay';
import type { PersistedState } from './host';

export interface Toggle { available: boolean; on: boolean }

export interface OverlayView {
  /** Nodes are coloured (a report is there and the user has colours on). */
  on: boolean;
  error: Toggle;
  own: Toggle;
  time: Toggle;
  gain: Toggle;
}

type OverlayChoice = Pick<PersistedState, 'overlayOn' | 'overlayKind' | 'overlayMetric' | 'timeMetric'>;

/** Sets the index's metric from the choice, falling back to the view the report has; says what the toolbar shows. */
export function chooseOverlayView(index: OverlayIndex | null, choice: OverlayChoice): OverlayView {
  const hasError = Boolean(index?.hasLayers);
  const hasTime = Boolean(index?.hasTime);
  const kind = choice.overlayKind === 'time' ? (hasTime ? 'time' : 'error') : hasError || !hasTime ? 'error' : 'time';
  const on = Boolean(index) && choice.overlayOn;
  const own = hasError && Boolean(index?.hasOwn) && choice.overlayMetric === 'own';
  if (index) index.metric = kind === 'time' ? choice.timeMetric ?? 'int8Ms' : own ? 'own' : 'accumulated';
  const errorOn = on && kind === 'error';
  const timeOn = on && kind === 'time';
  return {
    on,
    // Without a profile the error button stays, as before profiles existed, even for a report with no layers.
    error: { available: Boolean(index) && (hasError || !hasTime), on: errorOn },
    own: { available: errorOn && Boolean(index?.hasOwn), on: own },
    time: { available: hasTime, on: timeOn },
    gain: { available: timeOn, on: choice.timeMetric === 'gain' },
  };
}

/** The choice after clicking the error ('SQNR colours') or the 'Time' button: switch to that view, or colours off. */
export function toggleOverlayKind(view: OverlayView, kind: 'error' | 'time'): Partial<OverlayChoice> {
  const active = kind === 'error' ? view.error.on : view.time.on;
  return active ? { overlayOn: false } : { overlayOn: true, overlayKind: kind };
}
