// Values divided by a factor per channel (dim 1) before they are folded into statistics: the statistics pass measures
// tensors that activation equalization rescales part-way through (engine/runtime/rescaled-tensors.ts) on the model as
// it was, and the reducing thread divides those values as the rescaled model would have given them.
import { floatsToHalfBits } from './half-float';
import { float32Values, ReductionKind, TensorData } from './tensor-reductions';

/** How a tensor's values, or picks of them, are divided per channel. */
export interface ChannelDivision {
  /** The factor of each channel. */
  factors: Float32Array;
  channels: number;
  /** Values per channel of one sample. */
  inner: number;
  /** Picks: the first one's position in the [C, inner] values of a sample, and the stride between them (runs of samples
   *  follow each other). Absent: the values are whole [N, C, inner] runs. */
  picks?: { offset: number; stride: number };
}

/**
 * `values` divided per channel in place — as float16 bit patterns (rounded as ONNX Runtime's Cast rounds) for a
 * half-histogram, which folds those.
 */
export function dividedForReduction(data: TensorData, division: ChannelDivision, kind: ReductionKind): TensorData {
  const values = float32Values(data, 'a division per channel');
  const { factors, channels, inner, picks } = division;
  if (picks) dividePicks(values, factors, picks.offset, picks.stride, inner, channels);
  else divideChannels(values, factors, inner, channels);
  if (kind !== 'half-histogram') return values;
  const patterns = new Uint16Array(values.length);
  floatsToHalfBits(values, patterns);
  return patterns;
}

/** Divides picks by their channel's factor: pick i sits at `offset` + i·stride of [C, inner] values, its channel followed rather than divided out. */
function dividePicks(picks: Float32Array, s: Float32Array, offset: number, stride: number, inner: number, channels: number): void {
  let c = Math.floor(offset / inner);
  let within = offset - c * inner;
  for (let i = 0; i < picks.length; i++) {
    picks[i] /= s[c];
    within += stride;
    while (within >= inner) {
      within -= inner;
      if (++c === channels) c = 0;
    }
  }
}

/** Divides each channel's runs of `inner` values of [N, C, inner] values by its factor. */
function divideChannels(values: Float32Array, s: Float32Array, inner: number, channels: number): void {
  for (let start = 0, c = 0; start < values.length; start += inner, c = c + 1 === channels ? 0 : c + 1) {
    const factor = s[c];
    for (let i = start; i < start + inner; i++) values[i] /= factor;
  }
}
