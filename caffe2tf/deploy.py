"""A Graph written back as a V2 deploy net: what a Caffe-based tool (OpenCV, pycaffe) loads
to run the same inference the Graph describes, whatever form the original prototxt had.

Inputs become `input` + `input_shape`; layers keep their V2 parameters with bottoms and
tops restored to Caffe blob names (so in-place layers stay in place and dropped Split
layers are read through); phase rules and stored blobs are removed.
"""
from __future__ import annotations

from caffe2tf.ir import Graph
from caffe2tf.proto import caffe_pb2


def deploy_net_parameter(graph: Graph) -> caffe_pb2.NetParameter:
    net = caffe_pb2.NetParameter(name=graph.name)
    for blob, shape in graph.inputs.items():
        net.input.append(graph.blob_names.get(blob, blob))
        net.input_shape.add().dim.extend(shape)
    for layer in graph.layers:
        out = net.layer.add()
        out.CopyFrom(layer.param)
        out.name = layer.name
        for field in ("bottom", "top", "include", "exclude", "blobs", "phase"):
            out.ClearField(field)
        out.bottom.extend(graph.blob_names[b] for b in layer.bottoms)
        out.top.extend(graph.blob_names[t] for t in layer.tops)
    return net

