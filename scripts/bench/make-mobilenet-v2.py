#!/usr/bin/env python3
# make-mobilenet-v2.py OUT.onnx — a MobileNet-V2-class model for the benchmark's issue-11 target ("MobileNet-V1, -V2-
# and -V3-class models ≥ 1.05x ORT's tool's INT8"), which ../shared's arch zoo does not hold: torchvision's
# mobilenet_v2 with RANDOM weights (torch.manual_seed(0), nothing downloaded), its BatchNorm statistics set by 20
# batches of torch.randn in train mode as ../shared/scripts/make-arch-zoo.py does, exported at opset 13 with a dynamic
# batch. Judge it by SQNR/cosine, never by accuracy. Then: npm run bench -- --only mbv2_op13 --extra-zoo DIR
#
# Needs torch, torchvision and onnx from this machine's local package mirror (not a dependency of Octet):
#   python3 -m venv /tmp/tv && PIP_INDEX_URL=file:///opt/pypi/simple /tmp/tv/bin/pip install torch torchvision onnx
#   /tmp/tv/bin/python scripts/bench/make-mobilenet-v2.py .cache/extra-zoo/mbv2_op13.onnx
import importlib.util
import os
import sys
import types
import warnings

import torch


def import_torchvision_models():
    """The mirror's torchvision wheel may be a CUDA build whose C ops cannot load beside the CPU torch; only its fake-kernel
    registrations need them (see make-arch-zoo.py), so that module is skipped then."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        sys.exit("torchvision is not installed (see the header of this script)")
    try:
        torch.ops.load_library(os.path.join(os.path.dirname(spec.origin), "_C.so"))
    except Exception:
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torchvision.models as models
    return models


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-mobilenet-v2.py OUT.onnx")
    out = sys.argv[1]
    models = import_torchvision_models()
    torch.manual_seed(0)
    model = models.mobilenet_v2(weights=None)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # the plain average over the batches below
            m.reset_running_stats()
    model.train()
    with torch.no_grad():
        for _ in range(20):
            model(torch.randn(8, 3, 224, 224))
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), out, opset_version=13, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, dynamo=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
