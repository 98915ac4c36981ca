"""load_net: a Caffe prototxt (any format version), optionally with its caffemodel -> Graph.

Steps: tolerant parse -> upgrade to V2 -> keep the TEST-phase inference layers -> turn
input declarations and data layers into net inputs -> SSA renaming -> Caffe shape
inference -> weights attached by layer name, checked against the shapes Caffe expects.

How the Caffe graph maps onto the IR:
- Input layers, `input:` declarations and data layers become `Graph.inputs`, not layers.
  A data layer's transform_param becomes `Graph.preprocessing`; its label tops, and any
  data top nothing reads, are dropped.
- Split layers are dropped: each of their tops is another name for the bottom blob, so
  consumers are wired to the bottom's SSA name directly.
- Layer names are made unique: a repeated name gets `#2`, `#3`, ... (weights are still
  matched by the name in the prototxt, as Caffe does).
- SSA: a blob's first producer keeps the Caffe name; each later write of the same blob
  (an in-place layer) is named `<blob>@<layer name>`. `Graph.blob_names` maps back.
- Fields from Caffe forks are listed per layer in `Graph.foreign_fields` (a fork's
  `ceil_mode` becomes BVLC's `round_mode` instead).
- A blob whose shape cannot be known (downstream of a fork layer, a data layer reading
  a database without crop_size) is absent from `Graph.shapes`; a warning says why.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from caffe2tf.attach import attach_weights
from caffe2tf.errors import GraphError
from caffe2tf.forks import apply_bvlc_equivalents, foreign_fields_by_layer
from caffe2tf.ir import Graph, Layer, Preprocessing, Shape
from caffe2tf.prototxt import parse_prototxt
from caffe2tf.proto import caffe_pb2
from caffe2tf.shapes import SHAPE_RULES, infer_shapes, layer_output_shapes
from caffe2tf.upgrade import (
    DATA_LAYER_TYPES, format_version, select_inference_layers, upgrade_net, uses_stages,
)

# Every layer type of BVLC Caffe; anything else comes from a fork.
BVLC_LAYER_TYPES = frozenset(SHAPE_RULES) | DATA_LAYER_TYPES | {
    "Accuracy", "BatchReindex", "ContrastiveLoss", "EuclideanLoss", "Filter", "HDF5Output",
    "HingeLoss", "Im2col", "InfogainLoss", "LSTMUnit", "MultinomialLogisticLoss", "Python",
    "Recurrent", "SigmoidCrossEntropyLoss", "Silence", "SoftmaxWithLoss",
}


def load_net(prototxt: str | Path, caffemodel: str | Path | None = None, *,
             input_shapes: Mapping[str, Shape] | None = None,
             stages: Sequence[str] = ()) -> Graph:
    """Read a Caffe net into a Graph; attach the caffemodel's weights when one is given.

    `input_shapes` overrides (or supplies) the shapes of net inputs by Caffe blob name;
    `stages` are the NetState stages for nets that pick layers by stage (phase is TEST).

    Raises ParseError (unreadable files), GraphError (missing bottoms, impossible shapes)
    and WeightMismatch (missing, mis-shaped or foreign weights), each naming file and layer.
    """
    source = str(prototxt)
    parsed = parse_prototxt(prototxt)
    version = format_version(parsed.net)
    net, warnings = upgrade_net(parsed.net, source)
    warnings = list(parsed.warnings) + warnings
    foreign = apply_bvlc_equivalents(net, foreign_fields_by_layer(parsed))
    layers_pb, dropped = select_inference_layers(net, frozenset(stages))
    if dropped:
        warnings.append(f"dropped {len(dropped)} layers not used at inference: {', '.join(dropped)}")
    builder = _GraphBuilder(source, Path(prototxt).parent, warnings, foreign,
                            stage_hint=uses_stages(net) and not stages)
    builder.declare_net_inputs(net)
    for layer_pb in layers_pb:
        builder.add(layer_pb)
    inputs = builder.finish_inputs(input_shapes or {})
    shapes, shape_warnings = infer_shapes(inputs, builder.layers, source=source)
    warnings.extend(shape_warnings)
    unknown: dict[str, list[str]] = {}
    for layer in builder.layers:
        if layer.type not in BVLC_LAYER_TYPES:
            unknown.setdefault(layer.type, []).append(layer.name)
    for kind, names in unknown.items():
        warnings.append(f"layer type '{kind}' is not a BVLC Caffe type (layers: {', '.join(names)})")
    for layer in builder.layers:
        if layer.type in BVLC_LAYER_TYPES and layer.name in builder.foreign_fields:
            warnings.append(f"layer '{layer.name}' ({layer.type}) has Caffe-fork fields "
                            f"({', '.join(builder.foreign_fields[layer.name])}): its output "
                            "may differ from the fork's")
    graph = Graph(
        name=net.name, source=source, format_version=version, inputs=inputs,
        layers=builder.layers, shapes=shapes, outputs=builder.outputs(),
        blob_names=builder.blob_names, preprocessing=builder.preprocessing,
        warnings=warnings, unknown_types=unknown, foreign_fields=builder.foreign_fields,
    )
    if caffemodel is not None:
        attach_weights(graph, caffemodel)
    return graph


class _GraphBuilder:
    def __init__(self, source: str, base_dir: Path, warnings: list[str],
                 foreign: dict[str, list[str]], *, stage_hint: bool):
        self.source = source
        self.foreign = foreign  # by Caffe layer name
        self.foreign_fields: dict[str, list[str]] = {}  # by Graph layer name
        self.stage_hint = stage_hint
        self.base_dir = base_dir
        self.warnings = warnings
        self.layers: list[Layer] = []
        self.current: dict[str, str] = {}  # Caffe blob name -> its latest SSA name
        self.blob_names: dict[str, str] = {}
        self.declared_inputs: dict[str, Shape | None] = {}
        self.data_tops: set[str] = set()
        self.preprocessing: Preprocessing | None = None
        self.layer_names: set[str] = set()

    def _new_blob(self, blob: str, layer_name: str) -> str:
        name = blob if blob not in self.blob_names else f"{blob}@{layer_name}"
        suffix = 1
        while name in self.blob_names:
            suffix += 1
            name = f"{blob}@{layer_name}#{suffix}"
        self.blob_names[name] = blob
        self.current[blob] = name
        return name

    def _declare_input(self, blob: str, shape: Shape | None, layer_name: str | None) -> None:
        if blob in self.current:
            raise GraphError(f"input blob '{blob}' is declared twice", file=self.source,
                             layer=layer_name)
        self._new_blob(blob, layer_name or blob)
        self.declared_inputs[blob] = shape

    def declare_net_inputs(self, net: caffe_pb2.NetParameter) -> None:
        names = list(net.input)
        if net.input_shape:
            shapes = [tuple(int(d) for d in s.dim) for s in net.input_shape]
        elif net.input_dim:
            dims = [int(d) for d in net.input_dim]
            if len(dims) != 4 * len(names):
                raise GraphError(f"{len(dims)} input_dim values for {len(names)} inputs "
                                 "(4 per input expected)", file=self.source)
            shapes = [tuple(dims[4 * i:4 * i + 4]) for i in range(len(names))]
        else:
            shapes = []
        if shapes and len(shapes) != len(names):
            raise GraphError(f"{len(shapes)} input shapes for {len(names)} inputs", file=self.source)
        for i, name in enumerate(names):
            self._declare_input(name, shapes[i] if shapes else None, None)

    def add(self, pb: caffe_pb2.LayerParameter) -> None:
        name = pb.name or f"{pb.type.lower()}{len(self.layers)}"
        if name in self.layer_names:
            unique = next(f"{name}#{k}" for k in range(2, len(self.layer_names) + 3)
                          if f"{name}#{k}" not in self.layer_names)
            self.warnings.append(f"layer name '{name}' is used again; this one is '{unique}'")
            name = unique
        self.layer_names.add(name)
        if pb.type == "Input":
            layer = Layer(name, pb.type, [], list(pb.top), pb)
            for top, shape in zip(pb.top, layer_output_shapes(layer, [], source=self.source)):
                self._declare_input(top, shape, name)
            return
        if pb.type in DATA_LAYER_TYPES:
            self._add_data_layer(name, pb)
            return
        bottoms = []
        for blob in pb.bottom:
            if blob not in self.current:
                hint = " (the net selects layers by stage: pass stages)" if self.stage_hint else ""
                raise GraphError(f"bottom blob '{blob}' is not produced by any earlier layer "
                                 f"or declared as an input{hint}", file=self.source, layer=name)
            bottoms.append(self.current[blob])
        if pb.type == "Split":
            for top in pb.top:
                self.current[top] = bottoms[0]
            return
        tops = [self._new_blob(top, name) for top in pb.top]
        self.layers.append(Layer(name, pb.type, bottoms, tops, pb))
        if pb.name in self.foreign:
            self.foreign_fields[name] = list(self.foreign[pb.name])

    def _add_data_layer(self, name: str, pb: caffe_pb2.LayerParameter) -> None:
        data_shape = _data_layer_shape(pb)
        if data_shape is None and pb.top:
            self.warnings.append(
                f"layer '{name}' ({pb.type}): input shape of '{pb.top[0]}' is not in the "
                "prototxt (it comes from the dataset); pass input_shapes to fix it")
        for i, top in enumerate(pb.top):
            self._declare_input(top, data_shape if i == 0 else None, name)
            self.data_tops.add(top)
        if self.preprocessing is None and pb.top:
            self.preprocessing = self._preprocessing(name, pb.transform_param)

    def _preprocessing(self, name: str, tp: caffe_pb2.TransformationParameter) -> Preprocessing:
        found = None
        if tp.HasField("mean_file"):
            path = Path(tp.mean_file)
            found = (path if path.is_absolute() else self.base_dir / path).is_file()
            if not found:
                self.warnings.append(f"layer '{name}': mean file '{tp.mean_file}' not found "
                                     "(recorded in the preprocessing, not used)")
        return Preprocessing(
            scale=tp.scale if tp.HasField("scale") else None,
            mean_values=tuple(float(v) for v in tp.mean_value),
            mean_file=tp.mean_file if tp.HasField("mean_file") else None,
            mean_file_found=found,
            crop_size=tp.crop_size or None,
            mirror=tp.mirror,
            force_color=tp.force_color if tp.HasField("force_color") else None,
            source_layer=name,
        )

    def finish_inputs(self, overrides: Mapping[str, Shape]) -> dict[str, Shape]:
        """Shapes of the inputs something reads; unread data tops (labels) are dropped."""
        for blob in overrides:
            if blob not in self.declared_inputs:
                raise GraphError(f"input_shapes names '{blob}', which is not a net input "
                                 f"(inputs: {', '.join(self.declared_inputs)})", file=self.source)
        read = {b for layer in self.layers for b in layer.bottoms}
        inputs: dict[str, Shape] = {}
        for blob, shape in self.declared_inputs.items():
            if blob in self.data_tops and blob not in read:
                del self.blob_names[blob]
                continue
            shape = tuple(int(d) for d in overrides[blob]) if blob in overrides else shape
            if shape is None:
                self.warnings.append(f"input '{blob}' has no shape: its consumers' shapes are unknown")
                continue
            inputs[blob] = shape
        return inputs

    def outputs(self) -> list[str]:
        read = {b for layer in self.layers for b in layer.bottoms}
        return [top for layer in self.layers for top in layer.tops if top not in read]


def _data_layer_shape(pb: caffe_pb2.LayerParameter) -> Shape | None:
    """(N, C, H, W) of a data layer's first top when the prototxt alone determines it."""
    tp = pb.transform_param
    if pb.type == "MemoryData":
        mp = pb.memory_data_param
        if tp.crop_size:
            return (mp.batch_size or 1, mp.channels, tp.crop_size, tp.crop_size)
        return (mp.batch_size or 1, mp.channels, mp.height, mp.width)
    channels = 1 if tp.force_gray else 3
    if pb.type == "ImageData":
        ip = pb.image_data_param
        batch = ip.batch_size or 1
        channels = 3 if ip.is_color and not tp.force_gray else 1
        if tp.crop_size:
            return (batch, channels, tp.crop_size, tp.crop_size)
        if ip.new_height and ip.new_width:
            return (batch, channels, ip.new_height, ip.new_width)
        return None
    if pb.type == "HDF5Data":
        return None
    batch = (pb.data_param.batch_size if pb.type == "Data" else pb.window_data_param.batch_size) or 1
    if tp.crop_size:
        return (batch, channels, tp.crop_size, tp.crop_size)
    return None
