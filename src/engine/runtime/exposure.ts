// How to expose intermediate tensors without running out of memory. Calibration-style passes make ONNX Runtime return
// tensors the graph does not normally output; every one of them is alive at the end of a run, once in ORT and once
// as its JavaScript copy. A pass therefore asks for at most a byte budget's worth: the batch shrinks first (down to
// one sample), then the tensors are split into groups, one pass over the samples per group.
/** Bytes of exposed tensors one ORT run may return (their JS copies double it at the peak). */
export const EXPOSURE_BUDGET_BYTES = 320 * 2 ** 20;

export interface ExposurePlan {
  /** Samples per ORT run. */
  batch: number;
  /** Tensors per pass over the samples, in the order given. */
  groups: string[][];
}

/**
 * `bytesPerSample(t)`: bytes tensor t takes for one sample (undefined when unknown: counted as the largest known).
 * Keeps the requested batch when everything fits; never returns an empty group.
 */
export function planExposure(tensors: readonly string[], bytesPerSample: (tensor: string) => number | undefined,
  requestedBatch: number, budget = EXPOSURE_BUDGET_BYTES): ExposurePlan {
  const known = tensors.map(bytesPerSample).filter((b): b is number => b !== undefined && Number.isFinite(b) && b >= 0);
  const fallback = known.length > 0 ? Math.max(...known) : 0;
  const size = (t: string): number => {
    const b = bytesPerSample(t);
    return b !== undefined && Number.isFinite(b) && b >= 0 ? b : fallback;
  };
  const total = tensors.reduce((sum, t) => sum + size(t), 0);
  const batch = Math.max(1, requestedBatch);
  if (tensors.length === 0 || total * batch <= budget) return { batch, groups: tensors.length ? [[...tensors]] : [] };
  if (total <= budget) return { batch: Math.max(1, Math.floor(budget / total)), groups: [[...tensors]] };
  const groups: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const t of tensors) {
    if (current.length > 0 && bytes + size(t) > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += size(t);
  }
  if (current.length > 0) groups.push(current);
  const largest = Math.max(...groups.map((g) => g.reduce((sum, t) => sum + size(t), 0)));
  return { batch: Math.max(1, Math.min(batch, Math.floor(budget / Math.max(1, largest)))), groups };
}
