// --method auto: build the INT8 model with every calibration method (ranges come from the same statistics, so this
// costs conversions and a few inferences, no recalibration) and keep the one whose outputs are closest to FP32 on
// calibration samples (mean output SQNR).
import type { CalibrationMethod } from '../common/report';
import { encodeModel, ModelProto } from '../onnx/proto';
import { TensorStats } from '../quant/histogram';
import { convert, ConvertContext } from './convert';
import { Dataset } from './dataset';
import { loadEvalSet, runOutputs, scoreOutputs } from './evaluate';
import { effectiveBatch, ModelInput } from './model-input';

export const AUTO_METHODS: CalibrationMethod[] = ['mse', 'percentile', 'entropy', 'minmax'];

export async function pickMethod(reference: ModelProto, stats: Map<string, TensorStats>, ctx: ConvertContext, exclude: ReadonlySet<string>,
  dataset: Dataset, indices: readonly number[], input: ModelInput, signal?: AbortSignal): Promise<{ method: CalibrationMethod; scores: Record<string, number> }> {
  const samples = await loadEvalSet(dataset, indices, input, effectiveBatch(input, 8));
  const fp32 = await runOutputs(encodeModel(reference), samples, input, ctx.label, { signal });
  const scores: Record<string, number> = {};
  let best: CalibrationMethod = AUTO_METHODS[0];
  for (const method of AUTO_METHODS) {
    const conversion = convert(reference, stats, ctx, { method, exclude });
    const int8 = await runOutputs(conversion.bytes, samples, input, ctx.label, { signal });
    scores[method] = Math.round(scoreOutputs(fp32, int8, samples.labels).outputSqnrDb * 1000) / 1000;
    if (scores[method] > scores[best]) best = method;
  }
  return { method: best, scores };
}
