"""Blob and parameter shapes of nets as real Caffe (pycaffe in the Python 3.9 venv) makes them.

caffe.Net builds a net from the prototxt alone (its fillers create the parameters), so
this is the reference wherever OpenCV departs from Caffe. Caffe aborts the process on a
net it refuses, so only nets Caffe accepts may be passed.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from caffe2tf.ir import Graph, Shape

_SCRIPT = r'''
import json, re, sys
import caffe
caffe.set_mode_cpu()
out = {}
for path in json.load(open(sys.argv[1])):
    net = caffe.Net(path, caffe.TEST)
    out[path] = {
        # Caffe's own Split layers (one per extra consumer) make blobs "<blob>_..._split_<i>"
        "blobs": {k: list(v.data.shape) for k, v in net.blobs.items()
                  if not re.search(r"_split_\d+$", k)},
        "params": {k: [list(b.data.shape) for b in v] for k, v in net.params.items()},
    }
json.dump(out, open(sys.argv[2], "w"))
'''


def caffe_shapes(python: Path, prototxts: list[Path], work: Path) -> dict[str, dict]:
    """{prototxt: {"blobs": {blob: shape}, "params": {layer: [shapes]}}} from real Caffe."""
    request, response = work / "request.json", work / "response.json"
    request.write_text(json.dumps([str(p.resolve()) for p in prototxts]))
    env = {**os.environ, "GLOG_minloglevel": "2"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(python), "-c", _SCRIPT, str(request), str(response)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return {Path(k): v for k, v in json.loads(response.read_text()).items()}


def graph_blob_shapes(graph: Graph) -> dict[str, Shape]:
    """Caffe blob name -> shape; an in-place chain keeps its blob's shape throughout."""
    return {graph.blob_names[ssa]: shape for ssa, shape in graph.shapes.items()}


def graph_param_shapes(graph: Graph) -> dict[str, list[Shape]]:
    from caffe2tf.params import expected_param_shapes

    out = {}
    for layer in graph.layers:
        shapes = expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms])
        if shapes:
            out[layer.param.name] = shapes
    return out
