// Step 1: the FP32 model as Octet will quantize it — read (external data loaded), described (its image input, outputs
// and preprocessing guess: src/data/model-description.ts), ORT's basic optimization applied (BatchNorm folded, constants folded), nodes named, moved to the opset the QDQ format
// needs; and the machine it runs on, which decides the weight range.
import type { MachineInfo } from '../../common/report';
import { describeModel, ModelDescription, requireInput } from '../../data/model-description';
import type { ModelInput } from '../../data/model-input';
import { LoadedModel, readModel } from '../../onnx/model-io';
import { copyProto } from '../../onnx/graph';
import { summarizeModel } from '../../onnx/model-summary';
import type { ModelProto } from '../../onnx/proto';
import { OpsetDecision, prepareOpset } from '../../quant/opset';
import type { WeightRange } from '../../quant/rewrite';
import { machineInfo } from '../runtime/machine';
import { optimizeFp32 } from '../runtime/prepare';
import { ortVersion } from '../runtime/session';
import { throwIfCancelled } from '../cancel';
import { checkNotInputs } from './run-files';
import type { Run } from './run';

export interface PreparedModel {
  loaded: LoadedModel;
  /** What the model says about itself: its image input, outputs, the preprocessing guess. */
  description: ModelDescription;
  /** The image input at the data's size (settled when the calibration data is opened, step 2). */
  input: ModelInput;
  /** Moved to opset 13 (when older, exactly), then ORT's basic optimization. */
  optimized: ModelProto;
  /** A copy of `optimized`: the graph that is calibrated, equalized and converted. */
  reference: ModelProto;
  opset: OpsetDecision;
  perChannel: boolean;
  machine: MachineInfo;
  weightRange: WeightRange;
}

/** Step 1's result: the model before the data has settled its input's size. */
export type ReadyModel = Omit<PreparedModel, 'input'>;

export async function prepareModel(run: Run): Promise<ReadyModel> {
  const { request, paths } = run;
  run.progress('optimize', 0, 1, `reading ${paths.model}`);
  const loaded = readModel(paths.model);
  checkNotInputs([{ path: paths.out, flag: '--out' }, { path: paths.report, flag: '--report' }],
    loaded.externalFiles.map((path) => ({ path, what: 'input model\'s external data' })));
  throwIfCancelled(run.signal);
  const description = describeModel(summarizeModel(loaded.model), { label: paths.model, layout: request.layout });
  requireInput(description);
  // Opset 13 first (exact conversion), so ORT optimizes the graph Octet will rewrite with per-channel QDQ.
  const opset = prepareOpset(loaded.model, paths.model);
  if (opset.note) run.log(opset.note);
  const optimized = await optimizeFp32(opset.model, paths.model, run.workDir);
  // Unnamed nodes are named after their first output, so reports, --exclude and the graph viewer agree on names.
  for (const node of optimized.graph!.node) if (!node.name) node.name = node.output[0];
  run.progress('optimize', 1, 1, 'FP32 graph optimized (BatchNorm folded)');

  const reference: ModelProto = copyProto(optimized);
  const perChannel = request.perChannel;

  const machine = machineInfo(ortVersion());
  const weightRange: WeightRange = request.weightRange === 'auto' ? (machine.vnni ? 'full' : 'pair-safe') : request.weightRange;
  if (!machine.vnni) {
    run.warn(`This CPU has no VNNI: ONNX Runtime's U8S8 kernels add pairs of int8 products in saturating 16-bit sums here. `
      + (weightRange === 'full' ? 'Weights use the full int8 range, so some layers may saturate; --weight-range pair-safe avoids it.'
        : `Weights were quantized '${weightRange}' to rule saturation out; on a VNNI CPU, --weight-range full keeps one more bit where it matters.`));
  }
  return { loaded, description, optimized, reference, opset, perChannel, machine, weightRange };
}
