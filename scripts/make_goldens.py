"""Generate the real-Caffe golden outputs under tests/goldens/ (run once; commit the result).

    .venv/bin/python scripts/make_goldens.py [--zoo] [--only NAME ...]

Needs the real-Caffe venv (`zoo2tf caffe-env`). Each layer case is a tiny net written to
tests/goldens/layers/<case>/ with Caffe's own seeded fillers (saved by net.save), a seeded
input and Caffe's forward output; tests/goldens/layers/cases.json describes every case.
With --zoo it writes tests/goldens/zoo/<model>/ instead: a zoo architecture with weights
synthesized by caffe2tf.synth (re-synthesized at test time, so only the seed and the weights'
sha256 are stored), a uint8 input from cat.jpg and Caffe's outputs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # runnable as a plain script from a fresh clone

from validation.caffe_reference import caffe_fill_weights, caffe_forward  # noqa: E402
from validation.goldens import GOLDENS_DIR as GOLDENS  # noqa: E402
from validation.goldens import ZOO_INPUT_TRANSFORM, weights_digest, zoo_input  # noqa: E402

FILL = 'weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.3 }'


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    body: str  # layers after the Input layer; the input tops are declared by `inputs`
    inputs: dict[str, tuple[int, ...]]
    positive_input: bool = False  # for Log / fractional Power
    overrides: dict[str, np.ndarray] = field(default_factory=dict)
    opencv_defect: str | None = None  # a known OpenCV deviation this case triggers


def _conv(name: str, params: str, bottom: str = "data", kind: str = "Convolution") -> str:
    return (f'layer {{ name: "{name}" type: "{kind}" bottom: "{bottom}" top: "{name}" '
            f'convolution_param {{ {params} {FILL} }} }}')


def _one(name: str, kind: str, params: str = "", bottoms: tuple[str, ...] = ("data",),
         tops: tuple[str, ...] | None = None) -> str:
    bottom = " ".join(f'bottom: "{b}"' for b in bottoms)
    top = " ".join(f'top: "{t}"' for t in (tops or (name,)))
    return f'layer {{ name: "{name}" type: "{kind}" {bottom} {top} {params} }}'


def _pool(params: str) -> str:
    return _one("pool", "Pooling", f"pooling_param {{ {params} }}")


X4 = {"data": (2, 3, 4, 5)}
IMG = {"data": (1, 3, 8, 8)}
ODD = {"data": (1, 2, 7, 7)}

CASES: tuple[Case, ...] = (
    Case("conv_asym", "Convolution kernel 3x2, stride 2x1, pad 1x0 (per-axis params)",
         _conv("conv", "num_output: 4 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0"),
         {"data": (1, 3, 7, 8)}),
    Case("conv_group3", "Convolution with 3 groups (6 -> 9 channels), kernel 3, pad 1",
         _conv("conv", "num_output: 9 kernel_size: 3 pad: 1 group: 3"), {"data": (1, 6, 6, 6)}),
    Case("conv_dilation2", "Convolution kernel 3, dilation 2, pad 2, stride 1",
         _conv("conv", "num_output: 4 kernel_size: 3 dilation: 2 pad: 2"), {"data": (1, 3, 9, 9)}),
    Case("conv_no_bias", "Convolution with bias_term false, kernel 3, stride 2",
         _conv("conv", "num_output: 5 kernel_size: 3 stride: 2 bias_term: false"), IMG),
    Case("deconv_s2_p1", "Deconvolution kernel 4, stride 2, pad 1",
         _conv("deconv", "num_output: 3 kernel_size: 4 stride: 2 pad: 1", kind="Deconvolution"),
         {"data": (1, 4, 5, 5)}),
    Case("deconv_s2_p1_group2", "Deconvolution kernel 4, stride 2, pad 1, group 2 (4 -> 6 channels)",
         _conv("deconv", "num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2", kind="Deconvolution"),
         {"data": (1, 4, 5, 5)}),
    Case("deconv_asym", "Deconvolution kernel 3x2, stride 2x3, pad 1x0, no bias",
         _conv("deconv", "num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 "
               "pad_w: 0 bias_term: false", kind="Deconvolution"), {"data": (1, 3, 4, 4)}),
    *(Case(f"ip_axis{axis}", f"InnerProduct num_output 6 with axis {axis} on a 2x3x4x5 blob",
           _one("ip", "InnerProduct", f"inner_product_param {{ num_output: 6 axis: {axis} {FILL} }}"), X4)
      for axis in (1, 2, 3)),
    Case("ip_transpose", "InnerProduct with transpose true (weights stored K x N), axis 1",
         _one("ip", "InnerProduct", f"inner_product_param {{ num_output: 6 transpose: true {FILL} }}"), X4,
         opencv_defect="ip_transpose"),
    Case("pool_max_ceil", "MAX pooling k3 s2 on 8x8, no pad: ceil rounding adds a partial window",
         _pool("pool: MAX kernel_size: 3 stride: 2"), IMG),
    Case("pool_max_ceil_pad", "MAX pooling k3 s2 pad 1 on 8x8 (ceil overhang with pad)",
         _pool("pool: MAX kernel_size: 3 stride: 2 pad: 1"), IMG),
    Case("pool_max_pad_clip", "MAX pooling k2 s2 pad 1 on 7x7: the last window starts in the pad and is clipped",
         _pool("pool: MAX kernel_size: 2 stride: 2 pad: 1"), ODD),
    Case("pool_ave_ceil", "AVE pooling k3 s2 on 8x8, no pad (ceil overhang; divisor clipped to input+pad)",
         _pool("pool: AVE kernel_size: 3 stride: 2"), IMG),
    Case("pool_ave_pad", "AVE pooling k3 s2 pad 1 on 7x7 (pad counts in the divisor)",
         _pool("pool: AVE kernel_size: 3 stride: 2 pad: 1"), ODD),
    Case("pool_ave_ceil_pad", "AVE pooling k3 s2 pad 1 on 8x8 (ceil overhang with pad)",
         _pool("pool: AVE kernel_size: 3 stride: 2 pad: 1"), IMG),
    Case("pool_ave_pad_clip", "AVE pooling k2 s2 pad 1 on 7x7 (last window clipped)",
         _pool("pool: AVE kernel_size: 2 stride: 2 pad: 1"), ODD),
    Case("pool_asym", "MAX pooling kernel 3x2, stride 2x1, pad 1x0",
         _pool("pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0"), IMG),
    Case("pool_global_max", "global MAX pooling", _pool("pool: MAX global_pooling: true"), IMG),
    Case("pool_global_ave", "global AVE pooling", _pool("pool: AVE global_pooling: true"), IMG),
    Case("pool_max_floor", "MAX pooling k3 s2 on 8x8 with round_mode FLOOR",
         _pool("pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR"), IMG),
    Case("pool_ave_floor_pad", "AVE pooling k3 s2 pad 1 on 8x8 with round_mode FLOOR",
         _pool("pool: AVE kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR"), IMG),
    Case("lrn_across_k2", "LRN ACROSS_CHANNELS local_size 5, alpha 0.5, beta 0.75, k 2 (as VGG_CNN)",
         _one("norm", "LRN", "lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 }"),
         {"data": (1, 7, 4, 4)}, opencv_defect="lrn_k"),
    Case("lrn_across", "LRN ACROSS_CHANNELS local_size 3, alpha 0.5, beta 0.75, k 1",
         _one("norm", "LRN", "lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 }"), {"data": (1, 7, 4, 4)}),
    Case("lrn_within", "LRN WITHIN_CHANNEL local_size 3, alpha 0.5, beta 0.75",
         _one("norm", "LRN", "lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL }"),
         {"data": (1, 3, 6, 6)}),
    Case("batchnorm_scale", "BatchNorm (global stats, scale factor 0.5, eps 1e-3) followed by Scale with bias",
         _one("bn", "BatchNorm", "batch_norm_param { use_global_stats: true eps: 0.001 }")
         + _one("scale", "Scale", 'scale_param { bias_term: true filler { type: "gaussian" std: 0.5 } '
                'bias_filler { type: "gaussian" std: 0.5 } }', bottoms=("bn",)),
         {"data": (1, 4, 3, 3)},
         overrides={"bn/0": np.array([0.2, -0.4, 1.0, 0.0]), "bn/1": np.array([0.5, 2.0, 1.0, 4.0]),
                    "bn/2": np.array([0.5])}),
    Case("batchnorm_alone", "BatchNorm alone (global stats, scale factor 2, default eps)",
         _one("bn", "BatchNorm", "batch_norm_param { use_global_stats: true }"), {"data": (1, 3, 3, 3)},
         overrides={"bn/0": np.array([0.6, -0.2, 0.1]), "bn/1": np.array([1.5, 0.4, 3.0]),
                    "bn/2": np.array([2.0])}),
    Case("scale_axis1_num2", "Scale with axis 1, num_axes 2 (scale shape C x H) and bias",
         _one("scale", "Scale", 'scale_param { axis: 1 num_axes: 2 bias_term: true '
              'filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } }'), X4),
    Case("scale_axis2", "Scale with axis 2, num_axes 1 (scale shape H), no bias",
         _one("scale", "Scale", 'scale_param { axis: 2 num_axes: 1 filler { type: "gaussian" std: 0.5 } }'), X4),
    Case("scale_two_bottom", "Scale with a second bottom of shape C x H (axis 1) as the scale",
         _one("scale", "Scale", "scale_param { axis: 1 }", bottoms=("data", "s")),
         {"data": (2, 3, 4, 5), "s": (3, 4)}),
    Case("bias_axis2", "Bias layer with axis 2, num_axes 2 (bias shape H x W)",
         _one("bias", "Bias", 'bias_param { axis: 2 num_axes: 2 filler { type: "gaussian" std: 0.5 } }'), X4),
    Case("bias_two_bottom", "Bias layer with a second bottom of shape C (axis 1)",
         _one("bias", "Bias", "bias_param { axis: 1 }", bottoms=("data", "b")), {"data": (2, 3, 4, 5), "b": (3,)}),
    Case("relu", "ReLU", _one("relu", "ReLU"), X4),
    Case("relu_slope", "ReLU with negative_slope 0.1", _one("relu", "ReLU", "relu_param { negative_slope: 0.1 }"), X4),
    Case("prelu_channel", "PReLU with one slope per channel",
         _one("prelu", "PReLU", 'prelu_param { filler { type: "gaussian" std: 0.5 } }'), X4),
    Case("prelu_shared", "PReLU with channel_shared true",
         _one("prelu", "PReLU", 'prelu_param { channel_shared: true filler { type: "gaussian" std: 0.5 } }'), X4),
    Case("elu", "ELU with alpha 0.5", _one("elu", "ELU", "elu_param { alpha: 0.5 }"), X4),
    Case("sigmoid", "Sigmoid", _one("sig", "Sigmoid"), X4),
    Case("tanh", "TanH", _one("tanh", "TanH"), X4),
    Case("absval", "AbsVal", _one("abs", "AbsVal"), X4),
    Case("bnll", "BNLL (softplus)", _one("bnll", "BNLL"), X4),
    Case("power", "Power power 2, scale 0.5, shift 1",
         _one("pow", "Power", "power_param { power: 2 scale: 0.5 shift: 1 }"), X4),
    Case("power_sqrt", "Power power 0.5, scale 2, shift 0.5 on positive input",
         _one("pow", "Power", "power_param { power: 0.5 scale: 2 shift: 0.5 }"), X4, positive_input=True),
    Case("exp", "Exp base e, scale 0.5, shift 0.1", _one("exp", "Exp", "exp_param { scale: 0.5 shift: 0.1 }"), X4),
    Case("exp_base2", "Exp base 2, scale 1.5", _one("exp", "Exp", "exp_param { base: 2 scale: 1.5 }"), X4),
    Case("log", "Log base e on positive input", _one("log", "Log"), X4, positive_input=True),
    Case("log_base10", "Log base 10, scale 2, shift 1 on positive input",
         _one("log", "Log", "log_param { base: 10 scale: 2 shift: 1 }"), X4, positive_input=True,
         opencv_defect="log_params"),
    Case("threshold", "Threshold 0.2", _one("thr", "Threshold", "threshold_param { threshold: 0.2 }"), X4),
    Case("softmax_axis1", "Softmax over channels (default axis 1) of a 4-D blob", _one("prob", "Softmax"), X4),
    Case("softmax_axis2", "Softmax with axis 2", _one("prob", "Softmax", "softmax_param { axis: 2 }"), X4),
    Case("softmax_2d", "Softmax of an N x K blob", _one("prob", "Softmax"), {"data": (3, 10)}),
    Case("concat_axis1", "Concat of two blobs along channels",
         _one("cat", "Concat", bottoms=("data", "data2")), {"data": (1, 2, 3, 3), "data2": (1, 3, 3, 3)}),
    Case("concat_axis2", "Concat with axis 2",
         _one("cat", "Concat", "concat_param { axis: 2 }", bottoms=("data", "data2")),
         {"data": (1, 2, 3, 3), "data2": (1, 2, 4, 3)}),
    Case("slice_points", "Slice along channels at points 2 and 5 into three tops",
         _one("slice", "Slice", "slice_param { axis: 1 slice_point: 2 slice_point: 5 }",
              tops=("s0", "s1", "s2")), {"data": (1, 7, 3, 3)}),
    Case("slice_axis2_even", "Slice along axis 2 into two equal tops (no slice points)",
         _one("slice", "Slice", "slice_param { axis: 2 }", tops=("s0", "s1")), {"data": (1, 2, 4, 3)}),
    Case("eltwise_sum_coeff", "Eltwise SUM with coeff 1 and -1 (a difference)",
         _one("elt", "Eltwise", "eltwise_param { operation: SUM coeff: 1 coeff: -1 }", bottoms=("data", "data2")),
         {"data": X4["data"], "data2": X4["data"]}),
    Case("eltwise_sum", "Eltwise SUM of three blobs",
         _one("elt", "Eltwise", bottoms=("data", "data2", "data3")),
         {"data": X4["data"], "data2": X4["data"], "data3": X4["data"]}),
    Case("eltwise_prod", "Eltwise PROD",
         _one("elt", "Eltwise", "eltwise_param { operation: PROD }", bottoms=("data", "data2")),
         {"data": X4["data"], "data2": X4["data"]}),
    Case("eltwise_max", "Eltwise MAX",
         _one("elt", "Eltwise", "eltwise_param { operation: MAX }", bottoms=("data", "data2")),
         {"data": X4["data"], "data2": X4["data"]}),
    Case("flatten", "Flatten (axis 1) of a 4-D blob", _one("flat", "Flatten"), X4),
    Case("flatten_axis2", "Flatten from axis 2", _one("flat", "Flatten", "flatten_param { axis: 2 }"), X4),
    Case("reshape_0_-1", "Reshape with dims 0, -1, 4 (copy N, infer the middle)",
         _one("rs", "Reshape", "reshape_param { shape { dim: 0 dim: -1 dim: 4 } }"), {"data": (2, 3, 4, 4)}),
    Case("reshape_axis1", "Reshape of axes 1.. only (axis 1, num_axes -1) to 12 x 4",
         _one("rs", "Reshape", "reshape_param { shape { dim: 12 dim: 4 } axis: 1 }"), {"data": (2, 3, 4, 4)}),
    Case("crop_offsets", "Crop axis 2 with offsets 1 (H) and 2 (W) to the reference's 5x4",
         _one("crop", "Crop", "crop_param { axis: 2 offset: 1 offset: 2 }", bottoms=("data", "ref")),
         {"data": (1, 3, 8, 8), "ref": (1, 3, 5, 4)}),
    Case("crop_axis1", "Crop from axis 1 with one offset 1 for all cropped axes",
         _one("crop", "Crop", "crop_param { axis: 1 offset: 1 }", bottoms=("data", "ref")),
         {"data": (1, 5, 6, 6), "ref": (1, 3, 4, 4)}),
    Case("mvn", "MVN defaults (per channel, normalize_variance, eps 1e-9)", _one("mvn", "MVN"), X4),
    Case("mvn_mean_only", "MVN with normalize_variance false",
         _one("mvn", "MVN", "mvn_param { normalize_variance: false }"), X4),
    Case("mvn_across", "MVN with across_channels true",
         _one("mvn", "MVN", "mvn_param { across_channels: true }"), X4),
    Case("mvn_large_eps", "MVN with eps 0.5 (Caffe adds eps to the std)",
         _one("mvn", "MVN", "mvn_param { eps: 0.5 }"), X4, opencv_defect="mvn_eps"),
    Case("argmax", "ArgMax over all of C*H*W (no axis), top_k 1", _one("am", "ArgMax"), {"data": (2, 10)}),
    Case("argmax_axis1", "ArgMax along axis 1, top_k 2", _one("am", "ArgMax", "argmax_param { axis: 1 top_k: 2 }"), X4),
    Case("argmax_out_max_val", "ArgMax top_k 3 with out_max_val (indices and values)",
         _one("am", "ArgMax", "argmax_param { top_k: 3 out_max_val: true }"), {"data": (2, 10)}),
    Case("dropout", "Dropout (identity at test time)", _one("drop", "Dropout", "dropout_param { dropout_ratio: 0.5 }"), X4),
)


def _prototxt(case: Case) -> str:
    tops = " ".join(f'top: "{name}"' for name in case.inputs)
    shapes = " ".join("shape { " + " ".join(f"dim: {d}" for d in shape) + " }" for shape in case.inputs.values())
    header = f'name: "{case.name}"\nlayer {{ name: "input" type: "Input" {tops} input_param {{ {shapes} }} }}\n'
    return header + case.body.replace("}layer {", "}\nlayer {") + "\n"


def case_seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _inputs(case: Case) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(case_seed(case.name))
    arrays = {}
    for name, shape in case.inputs.items():
        value = rng.standard_normal(shape).astype(np.float32)
        arrays[name] = np.abs(value) + 0.1 if case.positive_input else value
    return arrays


def make_layer_case(case: Case, root: Path) -> dict:
    folder = root / case.name
    folder.mkdir(parents=True, exist_ok=True)
    prototxt = folder / "net.prototxt"
    prototxt.write_text(_prototxt(case))
    caffemodel = folder / "weights.caffemodel"
    params = caffe_fill_weights(prototxt, caffemodel, seed=case_seed(case.name), overrides=case.overrides)
    inputs = _inputs(case)
    for name, value in inputs.items():
        np.save(folder / f"input_{name}.npy", value)
    result = caffe_forward(prototxt, caffemodel, inputs)
    for name, value in result.blobs.items():
        np.save(folder / f"output_{name}.npy", value)
    return {
        "description": case.description,
        "layer_types": sorted({line.split('type: "')[1].split('"')[0]
                               for line in case.body.split("layer {")[1:]}),
        "inputs": {name: list(v.shape) for name, v in inputs.items()},
        "outputs": {name: list(v.shape) for name, v in result.blobs.items()},
        "params": params,
        "seed": case_seed(case.name),
        "opencv_known_defect": case.opencv_defect,
    }


def make_layer_goldens(only: list[str] | None) -> None:
    root = GOLDENS / "layers"
    index_path = root / "cases.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    for case in CASES:
        if only and case.name not in only:
            continue
        index[case.name] = make_layer_case(case, root)
        print(f"{case.name}: {index[case.name]['outputs']}")
    index_path.write_text(json.dumps(dict(sorted(index.items())), indent=1) + "\n")


ZOO_MODELS: dict[str, str] = {  # golden name -> prototxt under zoo_mirror/snapshot
    **{name.lower(): f"models/community/{name.lower()}/{name}_deploy.prototxt"
       for name in ("VGG_CNN_F", "VGG_CNN_M", "VGG_CNN_M_128", "VGG_CNN_M_1024", "VGG_CNN_M_2048",
                    "VGG_CNN_S")},
    "bvlc_reference_caffenet": "models/bvlc/bvlc_reference_caffenet/deploy.prototxt",
    "bvlc_googlenet": "models/bvlc/bvlc_googlenet/deploy.prototxt",
    "squeezenet": "models/community/squeezenet/deploy.prototxt",
    "resnet_50": "models/community/resnet/ResNet-50-deploy.prototxt",
    "age_net": "models/community/age_gender/deploy_age.prototxt",
}
ZOO_SEED = 0


def _cat_image(height: int, width: int) -> np.ndarray:
    import cv2

    from zoo_mirror import SNAPSHOT_DIR

    image = cv2.imread(str(SNAPSHOT_DIR / "images" / "cat.jpg"), cv2.IMREAD_COLOR)
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return resized.transpose(2, 0, 1)[None].copy()  # 1 x 3 x H x W, BGR


def make_zoo_goldens(only: list[str] | None) -> None:
    from caffe2tf.net import load_net
    from caffe2tf.synth import write_synthetic_caffemodel
    from zoo_mirror import SNAPSHOT_DIR

    for name, relative in ZOO_MODELS.items():
        if only and name not in only:
            continue
        prototxt = SNAPSHOT_DIR / relative
        graph = load_net(prototxt)
        (input_blob, shape), = graph.inputs.items()
        uint8_input = _cat_image(shape[2], shape[3])
        folder = GOLDENS / "zoo" / name
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            digests = []
            for attempt in range(2):  # the goldens rely on synthesis being deterministic
                path = write_synthetic_caffemodel(prototxt, Path(tmp) / f"w{attempt}.caffemodel", seed=ZOO_SEED)
                digests.append(weights_digest(path))
            if digests[0] != digests[1]:
                raise SystemExit(f"{name}: synthesized weights differ between two runs")
            result = caffe_forward(prototxt, Path(tmp) / "w0.caffemodel", {input_blob: zoo_input(uint8_input)})
        np.save(folder / "input.npy", uint8_input)
        outputs = {}
        for blob, value in result.blobs.items():
            np.save(folder / f"output_{blob}.npy", value)
            outputs[blob] = list(value.shape)
        record = {"prototxt": relative, "seed": ZOO_SEED, "weights_sha256": digests[0],
                  "input_blob": input_blob, "input_shape": list(uint8_input.shape),
                  "input_transform": ZOO_INPUT_TRANSFORM, "outputs": outputs}
        (folder / "golden.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"{name}: {outputs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="regenerate only these layer cases")
    parser.add_argument("--zoo", action="store_true",
                        help="write the zoo-architecture goldens instead of the layer goldens")
    args = parser.parse_args(argv)
    if args.zoo:
        make_zoo_goldens(args.only)
    else:
        make_layer_goldens(args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
