"""Runs one of ../shared/peers' quantizer scripts adapted to the model at hand (benchmark only, never part of Octet).

Usage: peer-geometry.py CROP RESIZE MIN_OPSET SCRIPT.py FP32.onnx [SCRIPT ARGS...]
- Geometry: the peers' common.py is written for 224x224 ImageNet models (shorter side to 256, centre crop 224). This
  sets its CROP and RESIZE before the script imports it, so CIFAR (32x32, untouched) and dynamic-size models (e.g.
  320x320) get the geometry Octet uses.
- MIN_OPSET (0 = off): a model below it is first converted with onnx.version_converter (ORT's tool writes per-channel
  DequantizeLinear with `axis`, which needs opset 13, into older models: an invalid model).
- ORT's quant_pre_process is retried with skip_symbolic_shape=True when symbolic shape inference fails (dynamic H/W).
Each adaptation made is printed on stderr as a line starting with "bench-peer-note: ".
"""
import os
import runpy
import sys

crop, resize, min_opset = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
script, fp32, rest = os.path.abspath(sys.argv[4]), sys.argv[5], sys.argv[6:]
sys.path.insert(0, os.path.dirname(script))
import common  # noqa: E402  (the peers' module; the script's own `from common import ...` gets this instance)

common.CROP = crop
common.RESIZE = resize


def note(text):
    print(f"bench-peer-note: {text}", file=sys.stderr, flush=True)


if min_opset:
    import onnx
    from onnx import version_converter

    model = onnx.load(fp32)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < min_opset:
        out = rest[rest.index("--out") + 1]
        converted = out.replace(".onnx", f".fp32-opset{min_opset}.onnx")
        try:
            onnx.save(version_converter.convert_version(model, min_opset), converted)
        except Exception as e:  # the converter's own message says which op it could not adapt
            sys.exit(f"onnx.version_converter could not convert {fp32} from opset {opset} to {min_opset}: {type(e).__name__}: {e}")
        fp32 = converted
        note(f"opset {opset} converted to {min_opset}")

try:
    from onnxruntime.quantization import shape_inference

    original_pre_process = shape_inference.quant_pre_process

    def pre_process_with_fallback(*args, **kwargs):
        try:
            return original_pre_process(*args, **kwargs)
        except Exception as e:
            note(f"quant_pre_process retried with skip_symbolic_shape ({type(e).__name__}: {str(e)[:120]})")
            return original_pre_process(*args, **{**kwargs, "skip_symbolic_shape": True})

    shape_inference.quant_pre_process = pre_process_with_fallback
except ImportError:
    pass

sys.argv = [script, fp32, *rest]
runpy.run_path(script, run_name="__main__")
