// The options of `octet quantize` and `octet eval`, each defined once: flag, type, default, allowed values or range,
// a one-line doc, and the VS Code setting that carries it. From this table come the CLI's parser, value checks and
// usage text (src/cli), the engine's QuantizeRequest type (request.ts), and the extension's settings reader and
// child-process arguments; test/engine/options.test.ts checks package.json's settings and docs/cli.md against it.
// Pure data and small pure helpers (no ORT, no fs): the extension imports it.
//
// Adding an option = one entry here (in DATA_OPTIONS when `octet eval` reads it too); its key is the QuantizeRequest
// field the engine reads, and callers that leave it out get its default. Give it `setting` to carry it in VS Code
// (and declare that setting in package.json: the test says what to write).
import {
  choice, defaultValue, integer, list, number, OptionInput, OptionSpec, OptionTable, OptionValues, requestValue, SettingLink, switchFlag, text,
  valueProblem,
} from './option-kinds';

/** How samples are read and preprocessed: shared by `octet quantize` and `octet eval`. */
export const DATA_OPTIONS = {
  /** Labels file ("FILE CLASS_INDEX" lines, or labels.npy); default: class subfolders or labels.txt in the folder. */
  labels: text({ flag: 'labels', valueName: 'FILE', doc: 'labels file (default: class subfolders or labels.txt in the folder)' }),
  /** A preset: shorthand for a channel order, mean and std (src/data/preprocessing.ts PRESETS). */
  preprocess: choice({
    flag: 'preprocess', values: ['auto', 'torch', 'tf', 'caffe', 'raw', 'unit'], default: 'auto',
    doc: 'preprocessing preset (auto: guessed from the model)',
    setting: { key: 'preprocess', label: 'preprocessing preset' },
  }),
  channelOrder: choice({
    flag: 'channel-order', values: ['auto', 'rgb', 'bgr'], default: 'auto', nullValue: 'auto',
    doc: 'channel order the model takes (auto: the preset\'s or the guess)',
  }),
  /** "A,B,C" or one number, 0..255 pixel units, in the model's channel order. */
  mean: text({ flag: 'mean', valueName: 'A,B,C', doc: 'mean per channel in 0..255 pixel units: value = (pixel − mean) / std' }),
  std: text({ flag: 'std', valueName: 'A,B,C', doc: 'std per channel in pixel units (one number: all channels)' }),
  /** "HxW": the sample size; fills the spatial dims the model leaves free. */
  inputSize: text({ flag: 'input-size', valueName: 'HxW', doc: 'sample size, e.g. 48x192 (fills the dims the model leaves free)' }),
  fit: choice({
    flag: 'fit', values: ['auto', 'crop', 'stretch', 'letterbox', 'pad-right'], default: 'auto', nullValue: 'auto',
    doc: 'how images fit the size (auto: guessed from the input shape)',
  }),
  padValue: number({ flag: 'pad-value', valueName: 'V', default: null, min: 0, max: 255, doc: 'padding for letterbox/pad-right, in pixel units (default 0)' }),
  sizeMultiple: integer({ flag: 'size-multiple', valueName: 'N', default: null, min: 1, doc: 'each image at its own size, sides multiples of N (free height and width)' }),
  maxSide: integer({ flag: 'max-side', valueName: 'S', default: null, min: 1, doc: 'with --size-multiple: longer side at most S' }),
  /** Shorter side resized to this before the centre crop (default: crop / 0.875). */
  resize: integer({ flag: 'resize', valueName: 'N', default: null, min: 1, doc: 'fit crop: resize the shorter side to N before cropping' }),
  crop: integer({ flag: 'crop', valueName: 'N', default: null, min: 1, doc: "fit crop: centre crop N x N (default: the input size)" }),
  /** Preprocessing per model input (src/data/preprocess-file.ts); flags win over it field by field. */
  preprocessFile: text({ flag: 'preprocess-file', valueName: 'SPEC.json', doc: 'preprocessing per model input (JSON; the VS Code extension writes it)' }),
  /** Input layout; null = from the model's input shape. */
  layout: choice({
    flag: 'layout', values: ['auto', 'NCHW', 'NHWC'], default: 'auto', nullValue: 'auto',
    doc: "input layout (auto: from the model's input shape)",
  }),
};

const THREADS = integer({ flag: 'threads', valueName: 'N', default: 0, min: 0, doc: 'ONNX Runtime intra-op threads (0: all cores)' });
export const JSON_OUTPUT = switchFlag({ flag: 'json', default: false, doc: 'print the result as JSON on stdout' });

/** Everything `octet quantize` is asked; the keys are the QuantizeRequest fields. */
export const QUANTIZE_OPTIONS = {
  calib: text({
    flag: 'calib', valueName: 'DIR', doc: 'calibration data (folder of images, IDX, .npy or test_data_set)',
    required: 'a calibration data set is required (folder of images, IDX, .npy or test_data_set)',
  }),
  ...DATA_OPTIONS,
  calibCount: integer({
    flag: 'calib-count', valueName: 'N', default: 100, min: 1, doc: 'calibration samples',
    setting: { key: 'calibrationCount', label: 'number of calibration images' },
  }),
  calibBatch: integer({
    flag: 'calib-batch', valueName: 'B', default: 8, min: 1, doc: 'samples per calibration batch (bounds memory)',
    setting: { key: 'calibrationBatch', label: 'calibration batch size' },
  }),
  method: choice({
    flag: 'method', values: ['minmax', 'entropy', 'percentile', 'mse', 'auto'], default: 'mse',
    doc: 'how activation ranges are chosen (auto: try each, keep the closest to FP32)',
    setting: { key: 'method', label: 'calibration method', values: ['minmax', 'entropy', 'percentile', 'mse'] },
  }),
  /** Percentile kept by the percentile method (and tried by 'auto'). */
  percentile: number({
    flag: 'percentile', valueName: 'P', default: 99.999, min: 50, max: 100, doc: 'percentile kept by --method percentile',
    onlyWhen: { option: 'method', values: ['percentile', 'auto'] }, setting: { key: 'percentile', label: 'percentile' },
  }),
  /** Weights per output channel (false: per tensor). */
  perChannel: switchFlag({
    flag: 'per-tensor', default: true, doc: 'quantize weights per tensor (default: per output channel)',
    setting: { key: 'perChannel', label: 'per-channel setting' },
  }),
  activations: choice({
    flag: 'activations', values: ['u8', 's8'], default: 'u8', doc: 'activation type (u8: U8S8, the fast x86 kernels)',
    setting: { key: 'activations', label: 'activation type' },
  }),
  /** Weight code range; 'auto' = 'pair-safe' on CPUs without VNNI (U8S8 saturation), else 'full'. */
  weightRange: choice({
    flag: 'weight-range', values: ['auto', 'full', 'pair-safe', '7bit'], default: 'auto',
    doc: 'weight code range (auto: pair-safe without VNNI, full with it)',
    aliases: [{ flag: 'reduce-range', value: '7bit', doc: 'same as --weight-range 7bit' }],
  }),
  /** Equalize activation channel ranges across consecutive convolutions (needs per-channel weights). */
  equalize: switchFlag({ flag: 'no-equalize', default: true, doc: 'do not equalize channel ranges between convolutions' }),
  /** 0..1: how far small channels are scaled up towards the tensor maximum. */
  equalizeStrength: number({
    flag: 'equalize-strength', valueName: 'S', default: 0.5, min: 0, max: 1, doc: 'how far small channels are scaled up (0..1)',
    onlyWhen: { option: 'equalize', values: [true] },
  }),
  /** Correct the output mean shift of quantized Conv/Gemm layers; 'auto' keeps it only when it reduces output error;
   *  'sequential' measures each layer on the INT8 model's own inputs, layer after layer (slower). */
  biasCorrection: choice({
    flag: 'bias-correction', values: ['auto', 'on', 'off', 'sequential'], default: 'auto',
    doc: 'fold the output mean shift of each layer into its bias (auto: when it helps; sequential: layer after layer, slower)',
    setting: { key: 'biasCorrection', label: 'bias correction setting', values: ['auto', 'on', 'off'] },
  }),
  /** Round weights from calibration data (GPTQ-style) instead of to nearest: 'auto' in layers with few inputs per
   *  output (depthwise, stem, small layers) when it helps; 'on' in every Conv/Gemm/MatMul it can (slower). */
  weightRounding: choice({
    flag: 'weight-rounding', values: ['auto', 'on', 'off'], default: 'auto',
    doc: 'round weights to minimise each layer\'s output error (auto: small layers, when it helps; on: every layer, slower)',
    setting: { key: 'weightRounding', label: 'weight rounding setting' },
  }),
  /** Keep LayerNorm/Softmax inputs and pieces in float (models with them only); 'auto' when it helps. */
  floatNorms: choice({
    flag: 'float-norms', values: ['auto', 'on', 'off'], default: 'auto',
    doc: 'keep LayerNorm/Softmax inputs and pieces in float (auto: when it helps)',
    setting: { key: 'floatNorms', label: 'float norms setting' },
  }),
  /** SmoothQuant scaling between LayerNorms and the MatMul/Gemm layers reading them; 'auto' when it helps. */
  smoothQuant: choice({
    flag: 'smooth-quant', values: ['auto', 'on', 'off'], default: 'auto',
    doc: 'move activation outliers of LayerNorm outputs into the weights reading them (auto: when it helps)',
    setting: { key: 'smoothQuant', label: 'SmoothQuant setting' },
  }),
  /** Op types to quantize (default: every quantizable type); checked against the op registry by the CLI. */
  opTypes: list({ flag: 'op-types', valueName: 'T,...', default: null, doc: 'quantize only these op types' }),
  exclude: list({ flag: 'exclude', valueName: 'NODE,...', default: [], doc: 'keep these nodes in FP32' }),
  /** INT8 model path (default: MODEL.int8.onnx beside the model, see defaultOutputPath). */
  out: text({ flag: 'out', valueName: 'OUT.onnx', doc: 'INT8 model (default MODEL.int8.onnx)' }),
  /** Report path (default: OUT.report.json, see defaultReportPath). */
  report: text({ flag: 'report', valueName: 'REPORT.json', doc: 'Report JSON (default OUT.report.json)' }),
  evalData: text({ flag: 'eval-data', valueName: 'DIR', doc: 'evaluation data (default: the calibration data, after its calibration samples)' }),
  evalLabels: text({ flag: 'eval-labels', valueName: 'FILE', doc: 'labels of --eval-data' }),
  evalCount: integer({
    flag: 'eval-count', valueName: 'N', default: 400, min: 0, doc: 'samples on which FP32 and INT8 are compared',
    onlyWhen: { option: 'evaluate', values: [true] }, setting: { key: 'evaluationCount', label: 'number of evaluation images' },
  }),
  evaluate: switchFlag({ flag: 'no-eval', default: true, doc: 'do not compare FP32 and INT8 accuracy' }),
  benchmark: switchFlag({
    flag: 'no-bench', default: true, doc: 'do not benchmark FP32 against INT8',
    setting: { key: 'benchmark', label: 'benchmark setting' },
  }),
  benchRuns: integer({ flag: 'bench-runs', valueName: 'N', default: 20, min: 1, doc: 'timed runs per benchmark', onlyWhen: { option: 'benchmark', values: [true] } }),
  threads: THREADS,
  /** Accuracy-aware mode: largest acceptable loss in points (top-1 drop with labels, agreement loss without). */
  maxDrop: number({
    flag: 'max-drop', valueName: 'P', default: null, min: 0, max: 100,
    doc: 'largest acceptable accuracy loss in points; layers return to FP32 until it holds',
    setting: { key: 'maxDrop', label: 'maximum accuracy drop' },
  }),
  /** Measure each layer's effect on the output (output SQNR gained with it alone in FP32) even without --max-drop. */
  sensitivity: switchFlag({ flag: 'sensitivity', default: false, doc: "measure each layer's effect on the output" }),
  /** Keep in float the regions where int8 (with its Q/DQ) measured slower; the written model is never slower than FP32. */
  speedAware: choice({
    flag: 'speed-aware', values: ['auto', 'off'], default: 'auto',
    doc: 'keep in float what measures slower in int8; never write a model slower than FP32 (off: quantize all)',
    setting: { key: 'speedAware', label: 'speed-aware choice' },
  }),
  tuneTimeout: integer({ flag: 'tune-timeout', valueName: 'SECONDS', default: 600, min: 1, doc: 'time budget of --max-drop and --sensitivity' }),
};

/** `octet quantize`'s command line: the request's options and how the CLI reports. */
export const QUANTIZE_COMMAND = {
  ...QUANTIZE_OPTIONS,
  progress: choice({ flag: 'progress', values: ['text', 'json', 'none'], default: 'text', doc: 'progress on stderr (json: one event per line)' }),
  json: switchFlag({ flag: 'json', default: false, doc: 'print the Report JSON on stdout' }),
};

/** `octet inspect`'s command line: what preprocessing a model would get with these flags. */
export const INSPECT_COMMAND = {
  ...(({ labels: _labels, ...rest }) => rest)(DATA_OPTIONS),
  json: JSON_OUTPUT,
};

/** `octet eval`'s command line. */
export const EVAL_COMMAND = {
  data: text({ flag: 'data', valueName: 'DIR', doc: 'evaluation data', required: 'an evaluation data set is required' }),
  ...DATA_OPTIONS,
  skip: integer({ flag: 'skip', valueName: 'N', default: 0, min: 0, doc: 'samples skipped at the start' }),
  limit: integer({ flag: 'limit', valueName: 'N', default: 0, min: 0, doc: 'samples evaluated (0: all)' }),
  threads: THREADS,
  json: JSON_OUTPUT,
};

/** Every option of a quantization run, defaults filled in. */
export type QuantizeOptionValues = OptionValues<typeof QUANTIZE_OPTIONS>;
/** What a caller of the engine gives: `calib`, and whichever options it wants off their default. */
export type QuantizeOptionInput = OptionInput<typeof QUANTIZE_OPTIONS>;

type SettingKeys<T> = { [K in keyof T]: T[K] extends { setting: SettingLink } ? K : never }[keyof T];
/** The options a VS Code setting carries (`octet.*`), keyed like QuantizeRequest. */
export type SettingValues = Pick<QuantizeOptionValues, SettingKeys<typeof QUANTIZE_OPTIONS>>;

/** The options of a table that have a VS Code setting, with their field names. */
export function settingOptions(table: OptionTable = QUANTIZE_OPTIONS): [string, OptionSpec & { setting: SettingLink }][] {
  return Object.entries(table).filter((e): e is [string, OptionSpec & { setting: SettingLink }] => e[1].setting !== undefined);
}

/** Reads every setting through `read(key)`; a value that is absent or out of range gives the option's default. */
export function readSettingValues(read: (settingKey: string) => unknown): SettingValues {
  const values: Record<string, unknown> = {};
  for (const [field, option] of settingOptions()) {
    const value = read(option.setting.key);
    values[field] = value !== undefined && valueProblem(option, value, option.setting.values) === null ? requestValue(option, value) : defaultValue(option);
  }
  return values as SettingValues;
}

