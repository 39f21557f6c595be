#!/usr/bin/env python3
# make-sweep-models.py OUT_DIR [NAME ...] — the architectures of the 2026-11-30 sweep (docs/benchmarks.md, "One-off
# sweep"): torchvision/timm models beyond ../shared's arch zoo, built by that zoo's own code
# (../shared/scripts/make-arch-zoo.py: RANDOM weights after torch.manual_seed(0), BatchNorm statistics from 20 random
# batches, exported and checked against onnxruntime), at the opsets their exporters use today. Judge them by SQNR,
# never by accuracy. Then, for Octet beside ORT's tool (and the speed targets):
#   npm run bench -- --only regnety400_op13,convnext_t_op17 --extra-zoo OUT_DIR   (ORT's tool only: zoo items)
# (`--list` prints the names.) Needs torch, torchvision, timm and onnx from this machine's local package mirror, as the
# zoo script's header says; not a dependency of Octet.
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ZOO_SCRIPT = os.path.join(HERE, "..", "..", "..", "shared", "scripts", "make-arch-zoo.py")


def load_zoo():
    if not os.path.exists(ZOO_SCRIPT):
        sys.exit(f"{ZOO_SCRIPT} not found: this script needs ../shared beside the project")
    spec = importlib.util.spec_from_file_location("make_arch_zoo", ZOO_SCRIPT)
    zoo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(zoo)
    return zoo


def register(zoo):
    tvm, timm, add = zoo.tvm, zoo.timm, zoo._add
    batch = {0: "N"}
    models = [
        ("effb0_op13", lambda: tvm.efficientnet_b0(weights=None), 13, 224, "SiLU, squeeze-excitation with Sigmoid"),
        ("effv2s_op13", lambda: tvm.efficientnet_v2_s(weights=None), 13, 224, "fused MBConv, SiLU, SE"),
        ("regnety400_op13", lambda: tvm.regnet_y_400mf(weights=None), 13, 224, "grouped 3x3 convs, SE"),
        ("densenet121_op13", lambda: tvm.densenet121(weights=None), 13, 224, "dense Concat, BatchNorm before ReLU/Conv"),
        ("inception3_op13", lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=True), 13, 299,
         "1x7/7x1 convs, AveragePool branches, 299x299"),
        ("mnasnet_op13", lambda: tvm.mnasnet1_0(weights=None), 13, 224, "inverted residuals, 5x5 depthwise"),
        ("resnext50_op13", lambda: tvm.resnext50_32x4d(weights=None), 13, 224, "32-group 3x3 convs"),
        ("mbv2_tv_op13", lambda: tvm.mobilenet_v2(weights=None), 13, 224, "ReLU6 (Clip)"),
        ("mbv3l_op17", lambda: tvm.mobilenet_v3_large(weights=None), 17, 224, "HardSwish op (opset 14+), SE"),
        ("convnext_t_op17", lambda: tvm.convnext_tiny(weights=None), 17, 224, "7x7 depthwise, LayerNormalization, GELU, layer scale"),
        ("deit_t_op17", lambda: timm.create_model("deit_tiny_patch16_224", pretrained=False), 17, 224, "attention, LayerNormalization"),
        ("swin_t_op17", lambda: timm.create_model("swin_tiny_patch4_window7_224", pretrained=False), 17, 224,
         "window attention: Reshape/Transpose/Roll, LayerNormalization"),
        ("ghostnet_op13", lambda: timm.create_model("ghostnet_100", pretrained=False), 13, 224, "ghost modules (Concat, Slice), SE"),
        ("lcnet_op17", lambda: timm.create_model("lcnet_100", pretrained=False), 17, 224, "HardSwish op, SE"),
        ("effformer_l1_op17", lambda: timm.create_model("efficientformer_l1", pretrained=False), 17, 224, "pooling mixers, attention"),
        ("mobilevit_s_op14", lambda: timm.create_model("mobilevit_s", pretrained=False), 14, 256, "unfold/fold attention"),
        ("repvgg_a0_op13", lambda: timm.create_model("repvgg_a0", pretrained=False), 13, 224,
         "training form: BatchNorm on the identity branch"),
    ]
    for name, build, opset, size, what in models:
        add(name, build, opset, size, ["logits"], batch, [batch], name, what)
    return [m[0] for m in models]


def main():
    args = sys.argv[1:]
    sys.argv = sys.argv[:1]  # the zoo script reads no arguments at import
    zoo = load_zoo()
    names = register(zoo)
    if args == ["--list"]:
        print("\n".join(names))
        return
    if not args:
        sys.exit("usage: make-sweep-models.py OUT_DIR [NAME ...] | --list")
    out, wanted = args[0], args[1:] or names
    os.makedirs(out, exist_ok=True)
    failed = []
    for name in wanted:
        try:
            zoo.build_one(name, out)
            print(f"wrote {os.path.join(out, name + '.onnx')}", flush=True)
        except Exception as err:  # keep building the others; report at the end
            failed.append(name)
            print(f"{name}: {err!r}"[:400], flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
