// Saturation-safe int8 weights for CPUs without VNNI. There ONNX Runtime's U8S8 GEMM multiplies uint8 activations by
// int8 weights with vpmaddubsw, which adds each pair of neighbouring products (K elements k, k+1) into a saturating
// int16: with activations up to 255, a pair overflows when its weights have the same sign and |q_k| + |q_k+1| > 128.
// ORT's remedy is 7-bit weights everywhere ("reduce range"), which costs one bit on every layer. Octet instead
// raises the scale only of the output channels that have such a pair, just enough that no pair can overflow; every
// other channel keeps the full int8 range. Depthwise convolutions run on a separate kernel that accumulates in
// int32, so they keep the full range too.

/** Largest |w_k| + |w_k+1| over neighbouring same-sign weights of one channel, walking `order` (indices into w). */
function maxSameSignPair(weights: Float32Array, order: Int32Array | number[]): number {
  let best = 0;
  for (let i = 0; i + 1 < order.length; i++) {
    const a = weights[order[i]];
    const b = weights[order[i + 1]];
    if ((a > 0 && b > 0) || (a < 0 && b < 0)) {
      const sum = Math.abs(a) + Math.abs(b);
      if (sum > best) best = sum;
    }
  }
  return best;
}

/** Codes of a pair sum to at most pairLimit/scale + 1 after rounding; this keeps it at most 128. */
const PAIR_LIMIT = 127.5;

/**
 * Minimum scale per output channel so that no pair of neighbouring weights in the GEMM's K order can saturate.
 * `kind` says how the weight's K dimension is laid out:
 *   conv:      [O, I, kh, kw], channel axis 0; both NCHW (i, ky, kx) and NHWC (ky, kx, i) K orders are checked;
 *   rows:      [N, K], channel axis 0 (Gemm transB=1);
 *   columns:   [K, N], channel axis 1 (Gemm transB=0, MatMul).
 * With `perTensor`, one scale for the whole tensor (the largest channel's need).
 */
export function pairSafeMinScales(weights: Float32Array, dims: readonly number[], kind: 'conv' | 'rows' | 'columns', perTensor: boolean): Float32Array {
  const channels = kind === 'columns' ? dims[1] : dims[0];
  const k = weights.length / channels;
  const out = new Float32Array(channels);
  const order = new Int32Array(k);
  for (let c = 0; c < channels; c++) {
    let need = 0;
    if (kind === 'columns') {
      for (let i = 0; i < k; i++) order[i] = i * channels + c;
      need = maxSameSignPair(weights, order);
    } else if (kind === 'rows') {
      for (let i = 0; i < k; i++) order[i] = c * k + i;
      need = maxSameSignPair(weights, order);
    } else {
      const inputs = dims[1];
      const spatial = k / inputs;
      for (let i = 0; i < k; i++) order[i] = c * k + i; // NCHW: (i, ky, kx)
      need = maxSameSignPair(weights, order);
      let n = 0;
      for (let s = 0; s < spatial; s++) for (let i = 0; i < inputs; i++) order[n++] = c * k + i * spatial + s; // NHWC
      need = Math.max(need, maxSameSignPair(weights, order));
    }
    out[c] = need / PAIR_LIMIT;
  }
  if (!perTensor) return out;
  return Float32Array.of(out.reduce((a, b) => Math.max(a, b), 0));
}
