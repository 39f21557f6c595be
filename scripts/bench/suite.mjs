// What the benchmark measures: the shared models, the architecture zoo, the detector-memory run, their data and
// preprocessing, the targets the issues set (with the issue and the CPU they are for), and the one place that says
// how an image size is passed to Octet and to the peers.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Size for models with dynamic H/W: the arch zoo (issue 10: "at 320x320"), and the detector-memory run. */
export const ZOO_DYNAMIC_SIZE = { height: 320, width: 320 };
export const DETECTOR_SIZE = { height: 640, width: 640 };
/** ORT tool calibration methods tried (x86 settings: QUInt8 activations, QInt8 per-channel weights); the best is kept. */
export const ORT_METHODS = ['minmax', 'entropy', 'percentile'];

/**
 * Octet's flags for an image size on a model with dynamic H/W. Today `--crop N` (square only); when `--input-size HxW`
 * lands, change this function and nothing else.
 */
export function octetSizeFlags(size) {
  if (!size) return [];
  if (size.height !== size.width) throw new Error(`octet --crop takes square sizes only (got ${size.height}x${size.width}); switch octetSizeFlags to --input-size`);
  return ['--crop', String(size.height)];
}

/** The peers' image geometry for a model input of `size` (their common.py: shorter side to RESIZE, centre crop CROP),
 *  chosen as Octet's (src/data/image-geometry.ts): resize round(crop / 0.875) then crop, or a plain resize below 64 px
 *  (CIFAR's 32x32 images: resize = crop = 32, which leaves them untouched). */
export function peerGeometry(size) {
  const side = Math.min(size.height, size.width);
  return { crop: side, resize: side < 64 ? side : Math.round(side / 0.875) };
}

const CALIB_S = 'issue 11, 2 cores';
const VNNI = 'issue 11, VNNI CPU';

/** The shared models (item 1 of the brief): classifiers with labels, every peer, all measures. */
export function sharedModels(shared, resnet50) {
  const imagenet = join(shared, 'assets/models/imagenet');
  const cifar = join(shared, 'assets/models/cifar10');
  const peerBar = { agreementVsPeers: 'issue 12', sqnrVsPeers: 'issue 12', vsOrtMin: { value: 0.97, source: 'issue 12' } };
  return [
    { id: 'mobilenet-v1', name: 'MobileNet-V1 0.75', model: join(imagenet, 'mobilenet_v1_0.75_224_keras_fp32.onnx'), preset: 'tf', data: 'imagenet',
      targets: { ...peerBar, calibS: { value: 6, source: CALIB_S }, sqnrDb: { value: 46, source: 'issue 12' },
        vsFp32: { value: 1.0, source: VNNI }, vsOrtMin: { value: 1.05, source: VNNI } } },
    { id: 'resnet50', name: 'ResNet-50', model: resnet50, preset: 'caffe', data: 'imagenet',
      targets: { ...peerBar, calibS: { value: 15, source: CALIB_S }, vsFp32: { value: 3.3, source: VNNI } } },
    { id: 'resnet20', name: 'ResNet-20 CIFAR-10', model: join(cifar, 'resnet20_cifar10_akamaster.onnx'), preset: 'torch', data: 'cifar',
      targets: { ...peerBar, vsFp32: { value: 1.0, source: VNNI } } },
    { id: 'resnet32', name: 'ResNet-32 CIFAR-10', model: join(cifar, 'resnet32_cifar10_akamaster.onnx'), preset: 'torch', data: 'cifar',
      targets: { ...peerBar, vsFp32: { value: 1.0, source: VNNI } } },
  ];
}

/** Extra targets for zoo models, by file stem (the rest get "≥ 1.0x vs FP32"). mbv2_op13 is not in ../shared: made by
 *  scripts/bench/make-mobilenet-v2.py and run with --extra-zoo. */
const ZOO_TARGETS = {
  mbv3s_op11: { vsOrtMin: { value: 1.05, source: `${VNNI} (MobileNet-V3-class)` } },
  mbv2_op13: { vsOrtMin: { value: 1.05, source: `${VNNI} (MobileNet-V2-class)` } },
  vit_tiny_op14: { agreementVsPeers: 'issue 12', sqnrVsPeers: 'issue 12', vsOrtMin: { value: 0.97, source: 'issue 12' } },
};

/** The arch zoo folder of ../shared. */
export function zooDir(shared) {
  return join(shared, 'assets/models/arch-zoo');
}

/** Every *.onnx in an arch-zoo-like folder (random weights: judged by SQNR/cosine, torch preprocessing, ORT peers only). */
export function zooModels(dir) {
  let files = [];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort(); } catch { /* no zoo: nothing to run */ }
  return files.map((f) => {
    const id = basename(f, '.onnx');
    return { id, name: id, model: join(dir, f), preset: 'torch', data: 'zoo',
      targets: { vsFp32: { value: 1.0, source: VNNI }, ...ZOO_TARGETS[id] } };
  });
}

/** Item 4: calibrating the YOLO-style detector at 640x640 on 100 images (issue 10's memory figure). */
export function detectorRun(shared) {
  return { id: 'detector', name: 'YOLO-style detector 640x640 (yolo_n_op12_dyn)', model: join(zooDir(shared), 'yolo_n_op12_dyn.onnx'),
    preset: 'torch', data: 'imagenet', size: DETECTOR_SIZE,
    targets: { peakMb: { value: 2048, source: 'issue 10, 2 cores' }, wallS: { value: 60, source: 'issue 10, 2 cores' } } };
}

/** Ids --quick runs: one model of each kind that is fast to calibrate. */
export const QUICK_IDS = ['mobilenet-v1', 'resnet20', 'squeezenet_op9', 'mbv3s_op11'];
