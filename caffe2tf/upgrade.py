"""Legacy Caffe nets brought to today's (V2) form, and train nets cut down to inference.

Format upgrades follow Caffe's own: V0 (`layers { layer { type: "conv" } }`) -> V1
(`layers { type: CONVOLUTION }`) -> V2 (`layer { type: "Convolution" }`). V0 padding
layers fold into the pad of the conv/pool that reads them; learning-rate fields
(blobs_lr, weight_decay) are dropped, they mean nothing at inference; the deprecated
transform fields of data params move to transform_param.

`select_inference_layers` then applies the TEST-phase NetStateRules and removes what
only training needs (losses, Accuracy, Silence, HDF5Output, label tops).
"""
from __future__ import annotations

from caffe2tf.errors import GraphError
from caffe2tf.proto import caffe_pb2

V1_TYPE_NAMES: dict[str, str] = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DATA": "Data", "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData", "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise",
    "EXP": "Exp", "FLATTEN": "Flatten", "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col", "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
    "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU",
    "SIGMOID": "Sigmoid", "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss",
    "SILENCE": "Silence", "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH", "WINDOW_DATA": "WindowData",
    "THRESHOLD": "Threshold",
}

V0_TO_V1_TYPES: dict[str, str] = {
    "accuracy": "ACCURACY", "bnll": "BNLL", "concat": "CONCAT", "conv": "CONVOLUTION",
    "data": "DATA", "dropout": "DROPOUT", "euclidean_loss": "EUCLIDEAN_LOSS",
    "flatten": "FLATTEN", "hdf5_data": "HDF5_DATA", "hdf5_output": "HDF5_OUTPUT",
    "im2col": "IM2COL", "images": "IMAGE_DATA", "infogain_loss": "INFOGAIN_LOSS",
    "innerproduct": "INNER_PRODUCT", "lrn": "LRN",
    "multinomial_logistic_loss": "MULTINOMIAL_LOGISTIC_LOSS", "pool": "POOLING",
    "relu": "RELU", "sigmoid": "SIGMOID", "softmax": "SOFTMAX", "softmax_loss": "SOFTMAX_LOSS",
    "split": "SPLIT", "tanh": "TANH", "window_data": "WINDOW_DATA",
}



def v1_type_string(enum_value: int) -> str:
    """V2 type string of a V1LayerParameter.LayerType value ("" for NONE or unknown values)."""
    enum = caffe_pb2.V1LayerParameter.LayerType
    if enum_value not in enum.values() or enum_value == enum.NONE:
        return ""
    return V1_TYPE_NAMES[enum.Name(enum_value)]


def v0_type_string(v0_type: str) -> str:
    """V2 type string of a V0 layer type ("conv" -> "Convolution"); "padding" -> "Padding"."""
    if v0_type == "padding":
        return "Padding"  # no V1/V2 equivalent: folded into the next conv/pool by the upgrade
    v1 = V0_TO_V1_TYPES.get(v0_type)
    return V1_TYPE_NAMES[v1] if v1 else v0_type


DATA_LAYER_TYPES = frozenset({"Data", "ImageData", "MemoryData", "WindowData", "HDF5Data"})
_TRAINING_ONLY_TYPES = frozenset({"Silence", "HDF5Output"})


def format_version(net: caffe_pb2.NetParameter) -> str:
    if any(v1.HasField("layer") for v1 in net.layers):
        return "V0"
    if len(net.layers):
        return "V1"
    return "V2"


def upgrade_net(net: caffe_pb2.NetParameter, source: str = "") -> tuple[caffe_pb2.NetParameter, list[str]]:
    """A V2 copy of `net` (any version) and warnings about what the upgrade dropped."""
    warnings: list[str] = []
    version = format_version(net)
    if version == "V2":
        out = caffe_pb2.NetParameter()
        out.CopyFrom(net)
    else:
        if version == "V0":
            v1_layers = _v0_to_v1(net, source, warnings)
        else:
            v1_layers = list(net.layers)
        out = caffe_pb2.NetParameter()
        out.CopyFrom(net)
        out.ClearField("layers")
        if len(net.layer):
            raise GraphError("net mixes V1 'layers' and V2 'layer' entries", file=source)
        for v1 in v1_layers:
            _v1_to_v2(v1, out.layer.add())
    for layer in out.layer:
        _move_data_transform(layer)
    return out, warnings


def _v0_to_v1(net: caffe_pb2.NetParameter, source: str,
              warnings: list[str]) -> list[caffe_pb2.V1LayerParameter]:
    layers = [_fold_padding(net, i, source) for i in range(len(net.layers))]
    out = []
    for v1_with_v0 in layers:
        if v1_with_v0 is None:
            continue
        v0 = v1_with_v0.layer
        v1 = caffe_pb2.V1LayerParameter()
        v1.bottom.extend(v1_with_v0.bottom)
        v1.top.extend(v1_with_v0.top)
        v1.name = v0.name
        v1_type = V0_TO_V1_TYPES.get(v0.type)
        if v1_type is None:
            raise GraphError(f"unknown V0 layer type '{v0.type}'", file=source, layer=v0.name)
        v1.type = caffe_pb2.V1LayerParameter.LayerType.Value(v1_type)
        v1.blobs.extend(v0.blobs)
        _v0_params(v0, v1_type, v1)
        out.append(v1)
    return out


def _fold_padding(net: caffe_pb2.NetParameter, index: int,
                  source: str) -> caffe_pb2.V1LayerParameter | None:
    """Layer `index` with any V0 padding layer before it folded in; None for a padding layer."""
    entry = net.layers[index]
    if entry.layer.type == "padding":
        return None
    folded = caffe_pb2.V1LayerParameter()
    folded.CopyFrom(entry)
    producers = {top: net.layers[j] for j in range(index) for top in net.layers[j].top}
    for k, bottom in enumerate(entry.bottom):
        pad_layer = producers.get(bottom)
        if pad_layer is None or pad_layer.layer.type != "padding":
            continue
        if entry.layer.type not in ("conv", "pool"):
            raise GraphError("a V0 padding layer can only feed a conv or pool layer",
                             file=source, layer=entry.layer.name)
        folded.bottom[k] = pad_layer.bottom[0]
        folded.layer.pad = pad_layer.layer.pad
    return folded


def _v0_params(v0: caffe_pb2.V0LayerParameter, v1_type: str, v1: caffe_pb2.V1LayerParameter) -> None:
    has = v0.HasField
    if v1_type in ("CONVOLUTION", "INNER_PRODUCT"):
        p = v1.convolution_param if v1_type == "CONVOLUTION" else v1.inner_product_param
        if has("num_output"):
            p.num_output = v0.num_output
        if has("biasterm"):
            p.bias_term = v0.biasterm
        if has("weight_filler"):
            p.weight_filler.CopyFrom(v0.weight_filler)
        if has("bias_filler"):
            p.bias_filler.CopyFrom(v0.bias_filler)
        if v1_type == "CONVOLUTION":
            if has("pad"):
                p.pad.append(v0.pad)
            if has("kernelsize"):
                p.kernel_size.append(v0.kernelsize)
            if has("stride"):
                p.stride.append(v0.stride)
            if has("group"):
                p.group = v0.group
    elif v1_type == "POOLING":
        p = v1.pooling_param
        for src, dst in (("pad", "pad"), ("kernelsize", "kernel_size"), ("stride", "stride"),
                         ("pool", "pool")):
            if has(src):
                setattr(p, dst, getattr(v0, src))
    elif v1_type == "DROPOUT" and has("dropout_ratio"):
        v1.dropout_param.dropout_ratio = v0.dropout_ratio
    elif v1_type == "LRN":
        for field in ("local_size", "alpha", "beta", "k"):
            if has(field):
                setattr(v1.lrn_param, field, getattr(v0, field))
    elif v1_type == "CONCAT" and has("concat_dim"):
        v1.concat_param.concat_dim = v0.concat_dim
    elif v1_type == "HDF5_OUTPUT" and has("hdf5_output_param"):
        v1.hdf5_output_param.CopyFrom(v0.hdf5_output_param)
    data_param = {"DATA": v1.data_param, "IMAGE_DATA": v1.image_data_param,
                  "WINDOW_DATA": v1.window_data_param, "HDF5_DATA": v1.hdf5_data_param}.get(v1_type)
    if data_param is None:
        return
    for src, dst in (("source", "source"), ("batchsize", "batch_size"), ("rand_skip", "rand_skip"),
                     ("new_height", "new_height"), ("new_width", "new_width"),
                     ("shuffle_images", "shuffle"), ("det_fg_threshold", "fg_threshold"),
                     ("det_bg_threshold", "bg_threshold"), ("det_fg_fraction", "fg_fraction"),
                     ("det_context_pad", "context_pad"), ("det_crop_mode", "crop_mode")):
        if has(src) and dst in data_param.DESCRIPTOR.fields_by_name:
            setattr(data_param, dst, getattr(v0, src))
    transform = v1.transform_param
    for src, dst in (("scale", "scale"), ("meanfile", "mean_file"), ("cropsize", "crop_size"),
                     ("mirror", "mirror")):
        if has(src):
            setattr(transform, dst, getattr(v0, src))


_V1_COMMON = ("name", "bottom", "top", "include", "exclude", "loss_weight", "blobs")


def _v1_to_v2(v1: caffe_pb2.V1LayerParameter, out: caffe_pb2.LayerParameter) -> None:
    for field in _V1_COMMON:
        value = getattr(v1, field)
        if isinstance(value, str):
            if v1.HasField(field):
                setattr(out, field, value)
        else:
            getattr(out, field).extend(value)
    enum_name = caffe_pb2.V1LayerParameter.LayerType.Name(v1.type)
    out.type = V1_TYPE_NAMES.get(enum_name, enum_name)
    for name in v1.param:
        out.param.add().name = name
    v2_fields = caffe_pb2.LayerParameter.DESCRIPTOR.fields_by_name
    for field, value in v1.ListFields():
        if field.name.endswith("_param") and field.name in v2_fields and field.name != "param":
            getattr(out, field.name).CopyFrom(value)


_DEPRECATED_TRANSFORM = ("scale", "mean_file", "crop_size", "mirror")


def _move_data_transform(layer: caffe_pb2.LayerParameter) -> None:
    """Old data params carried their own transform fields; Caffe moved them to transform_param."""
    for name in ("data_param", "image_data_param", "window_data_param"):
        if not layer.HasField(name):
            continue
        param = getattr(layer, name)
        for field in _DEPRECATED_TRANSFORM:
            if param.HasField(field):
                setattr(layer.transform_param, field, getattr(param, field))
                param.ClearField(field)


def _meets_rule(rule: caffe_pb2.NetStateRule, stages: frozenset[str]) -> bool:
    """Whether Caffe's inference NetState (phase TEST, level 0, `stages`) meets `rule`."""
    if rule.HasField("phase") and rule.phase != caffe_pb2.TEST:
        return False
    if rule.HasField("min_level") and rule.min_level > 0:
        return False
    if rule.HasField("max_level") and rule.max_level < 0:
        return False
    return all(s in stages for s in rule.stage) and not any(s in stages for s in rule.not_stage)


def in_test_phase(layer: caffe_pb2.LayerParameter, stages: frozenset[str] = frozenset()) -> bool:
    if layer.include:
        return any(_meets_rule(rule, stages) for rule in layer.include)
    return not any(_meets_rule(rule, stages) for rule in layer.exclude)


def uses_stages(net: caffe_pb2.NetParameter) -> bool:
    return any(rule.stage or rule.not_stage
               for layer in net.layer for rule in (*layer.include, *layer.exclude))


def is_training_only(layer_type: str) -> bool:
    return (layer_type in _TRAINING_ONLY_TYPES or layer_type.endswith("Loss")
            or layer_type.endswith("Accuracy"))


def select_inference_layers(net: caffe_pb2.NetParameter, stages: frozenset[str] = frozenset(),
                            ) -> tuple[list[caffe_pb2.LayerParameter], list[str]]:
    """The TEST-phase layers of a V2 net that inference needs, and what was dropped."""
    kept = [layer for layer in net.layer if in_test_phase(layer, stages)]
    dropped = [f"{layer.name} ({layer.type}, not in TEST phase)"
               for layer in net.layer if not in_test_phase(layer, stages)]
    dropped += [f"{layer.name} ({layer.type})" for layer in kept if is_training_only(layer.type)]
    kept = [layer for layer in kept if not is_training_only(layer.type)]
    return kept, dropped
