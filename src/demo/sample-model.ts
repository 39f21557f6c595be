// The demo's bundled default when ../shared is absent: a ResNet-style CNN (Conv-BatchNorm-Relu blocks, residual Adds,
// MaxPool, GlobalAveragePool, Gemm) for 3x64x64 images, generated with seeded He-initialised weights, and a folder of
// procedurally drawn images to calibrate and evaluate it on. Without labels the demo reports agreement and SQNR.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildModel, floatAttribute, intsAttribute, randomTensor, valueInfo } from '../onnx/build';
import { intAttribute, makeNode } from '../onnx/graph';
import { ModelProto, NodeProto, TensorProto } from '../onnx/proto';
import { makeTensor } from '../onnx/tensor';
import { rng } from '../common/random';

export const SAMPLE_SIZE = 64;

export function sampleCnn(seed = 2024): ModelProto {
  const random = rng(seed);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let counter = 0;
  const convBn = (input: string, inC: number, outC: number, kernel: number, stride: number, relu: boolean): string => {
    const id = ++counter;
    const w = `conv${id}.weight`;
    inits.push(randomTensor(w, [outC, inC, kernel, kernel], random, Math.sqrt(2 / (inC * kernel * kernel))));
    const pad = Math.floor(kernel / 2);
    nodes.push(makeNode('Conv', [input, w], [`conv${id}`], `conv${id}`, [
      intsAttribute('kernel_shape', [kernel, kernel]), intsAttribute('pads', [pad, pad, pad, pad]), intsAttribute('strides', [stride, stride]),
    ]));
    const bn = ['scale', 'bias', 'mean', 'var'].map((p) => `bn${id}.${p}`);
    inits.push(randomTensor(bn[0], [outC], random, 0.1, 1), randomTensor(bn[1], [outC], random, 0.1),
      randomTensor(bn[2], [outC], random, 0.1), makeTensor(bn[3], [outC], Float32Array.from({ length: outC }, () => 0.8 + random() * 0.4)));
    nodes.push(makeNode('BatchNormalization', [`conv${id}`, ...bn], [`bn${id}`], `bn${id}`, [floatAttribute('epsilon', 1e-5)]));
    if (!relu) return `bn${id}`;
    nodes.push(makeNode('Relu', [`bn${id}`], [`relu${id}`], `relu${id}`));
    return `relu${id}`;
  };
  let x = convBn('image', 3, 32, 3, 1, true);
  nodes.push(makeNode('MaxPool', [x], ['pool'], 'maxpool', [intsAttribute('kernel_shape', [2, 2]), intsAttribute('strides', [2, 2])]));
  x = 'pool';
  let channels = 32;
  for (const [outC, stride] of [[32, 1], [64, 2], [64, 1], [128, 2]] as const) {
    const a = convBn(x, channels, outC, 3, stride, true);
    const b = convBn(a, outC, outC, 3, 1, false);
    const shortcut = stride === 1 && outC === channels ? x : convBn(x, channels, outC, 1, stride, false);
    const sum = `add${counter}`;
    nodes.push(makeNode('Add', [b, shortcut], [sum], sum));
    nodes.push(makeNode('Relu', [sum], [`${sum}_relu`], `${sum}_relu`));
    x = `${sum}_relu`;
    channels = outC;
  }
  nodes.push(makeNode('GlobalAveragePool', [x], ['gap'], 'gap'));
  nodes.push(makeNode('Flatten', ['gap'], ['flat'], 'flatten', [intAttribute('axis', 1)]));
  inits.push(randomTensor('fc.weight', [10, channels], random, Math.sqrt(1 / channels)), randomTensor('fc.bias', [10], random, 0.01));
  nodes.push(makeNode('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], 'fc', [intAttribute('transB', 1)]));
  return buildModel(nodes, inits, [valueInfo('image', ['N', 3, SAMPLE_SIZE, SAMPLE_SIZE])], [valueInfo('logits', ['N', 10])], 13, 'octet-sample');
}

/** Draws `count` distinct 96x96 RGB images (gradients, stripes, discs) as PNG files into `dir`. */
export async function writeSampleImages(dir: string, count: number, seed = 7): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const random = rng(seed);
  const size = 96;
  for (let s = 0; s < count; s++) {
    const pixels = Buffer.alloc(size * size * 3);
    const [fx, fy, phase] = [0.05 + random() * 0.3, 0.05 + random() * 0.3, random() * 6];
    const [cx, cy, radius] = [random() * size, random() * size, 10 + random() * 30];
    const tint = [random(), random(), random()];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const wave = 0.5 + 0.5 * Math.sin(x * fx + y * fy + phase);
        const disc = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2 ? 1 : 0;
        for (let c = 0; c < 3; c++) {
          const v = 255 * (0.6 * wave * tint[c] + 0.4 * disc * (1 - tint[c])) + (random() - 0.5) * 20;
          pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    const png = new PNG({ width: size, height: size });
    png.data = pixels;
    writeFileSync(join(dir, `sample_${String(s).padStart(3, '0')}.png`), PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
  }
}
