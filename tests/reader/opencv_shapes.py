"""Blob shapes of a Caffe net as OpenCV 4.14's dnn importer computes them (the reference).

OpenCV needs a caffemodel before it will compute shapes. Its shape code reads only the
leading dimensions of learned blobs (a conv's num_output and channels per group, an
inner product's num_output); kernel sizes, strides and pads come from the prototxt.
So `write_shape_only_caffemodel` writes conv kernels as 1x1 and inner products with
K = 1, which gives OpenCV exactly the information it uses at a fraction of the size
(VGG16: 6 MB instead of 553 MB). test_zoo_prototxts checks on real-size synthetic
weights that the shapes are the same.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from caffe2tf.caffemodel import write_caffemodel
from caffe2tf.ir import Graph, Shape
from caffe2tf.params import expected_param_shapes


def write_shape_only_caffemodel(graph: Graph, path: Path) -> Path:
    def layers():
        for layer in graph.layers:
            shapes = expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms])
            if layer.type in ("Convolution", "Deconvolution"):
                shapes = [s[:2] + (1,) * (len(s) - 2) for s in shapes]
            elif layer.type == "InnerProduct":
                out = layer.param.inner_product_param.num_output
                transpose = layer.param.inner_product_param.transpose
                shapes = [(1, out) if transpose else (out, 1)] + shapes[1:]
            shapes = [s or (1,) for s in shapes]  # OpenCV cannot hold a 0-d blob
            if shapes:
                yield layer.param.name, layer.type, [np.zeros(s, np.float32) for s in shapes]

    write_caffemodel(path, graph.name, layers())
    return path


def opencv_layer_shapes(prototxt: Path, caffemodel: Path,
                        input_shapes: list[Shape]) -> list[tuple[str, str, list[Shape]]]:
    """(name, type, top shapes) of every layer OpenCV builds, in prototxt order."""
    import cv2

    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    ids, _, outs = net.getLayersShapes([list(s) for s in input_shapes])
    result = []
    for layer_id, shapes in zip(np.asarray(ids).ravel(), outs):
        layer = net.getLayer(int(layer_id))
        if layer_id == 0:  # OpenCV's own input layer
            continue
        result.append((layer.name, layer.type, [tuple(int(d) for d in s) for s in shapes]))
    return result


def graph_layer_shapes(graph: Graph) -> list[tuple[str, str, list[Shape]]]:
    return [(layer.name, layer.type, [graph.shapes[t] for t in layer.tops])
            for layer in graph.layers]
