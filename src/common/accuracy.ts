// Reading an AccuracyResult the same way everywhere (tuning, the CLI summary, Markdown/HTML, the report panel).
import type { AccuracyResult, AgreementMeasure } from './report';

/** The agreement that stands for a model: the classifier's top-1 agreement, else its first output that has one. */
export function primaryAgreement(a: AccuracyResult): { value: number; measure: AgreementMeasure; output: string } | null {
  const scored = a.outputs?.find((o) => o.agreement !== null && o.agreementMeasure !== null);
  if (a.agreement !== null && a.agreement !== undefined) {
    return { value: a.agreement, measure: 'top-1 class', output: a.outputs?.[0]?.name ?? '' };
  }
  return scored ? { value: scored.agreement!, measure: scored.agreementMeasure!, output: scored.name } : null;
}

/** A short name for an agreement measure, for labels ("Pixel agreement"). */
export function agreementLabel(measure: AgreementMeasure): string {
  switch (measure) {
    case 'top-1 class': return 'Top-1 agreement';
    case 'pixels with the same class': return 'Pixel agreement';
    case 'pixels on the same side of the threshold': return 'Mask agreement';
    case 'steps with the same class': return 'Step agreement';
  }
}
