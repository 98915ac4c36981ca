"""Runs real pycaffe for zoo2tf. Executed by the Python 3.9 venv's interpreter, never imported.

Usage: python caffe_runner.py REQUEST.json

The request is a JSON object with "mode":
- "forward": {"prototxt", "caffemodel" (or null), "inputs" (list of .npz: input blob -> array,
  one per forward pass), "outputs" (list of .npz to write, one per input), "blobs" (list of blob
  names, or "net_outputs"), "per_layer" (bool), "response" (.json to write)}. The net is loaded
  once for all passes. With per_layer the output of every layer is captured right after that
  layer runs (so in-place layers do not overwrite earlier values); the response lists, per pass,
  each layer's name, type and the npz keys of its tops.
- "fill": {"prototxt", "seed", "overrides" (.npz "layer/index" -> array, or null),
  "caffemodel" (path to write), "response"}: builds the net with Caffe's own fillers under the
  given seed, replaces the overridden parameter blobs and saves it with net.save.

Kept to Python 3.9 syntax and free of zoo2tf imports: it runs in a different interpreter.
"""
import json
import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

import caffe  # noqa: E402


def _load_net(prototxt, caffemodel):
    caffe.set_mode_cpu()
    if caffemodel:
        return caffe.Net(prototxt, caffe.TEST, weights=caffemodel)
    return caffe.Net(prototxt, caffe.TEST)


def _set_inputs(net, inputs):
    for name, value in inputs.items():
        if name not in net.blobs:
            raise KeyError("input blob %r is not in the net (inputs: %s)" % (name, list(net.inputs)))
        net.blobs[name].reshape(*value.shape)
        net.blobs[name].data[...] = value
    net.reshape()


def forward(request):
    net = _load_net(request["prototxt"], request.get("caffemodel"))
    wanted = request.get("blobs") or "net_outputs"
    names = list(net.outputs) if wanted == "net_outputs" else list(wanted)
    runs = []
    for inputs_path, outputs_path in zip(request["inputs"], request["outputs"]):
        with np.load(inputs_path) as data:
            inputs = {name: np.asarray(data[name], dtype=np.float32) for name in data.files}
        runs.append(_forward_one(net, inputs, names, bool(request.get("per_layer")), outputs_path))
    return {"net_inputs": list(net.inputs), "net_outputs": list(net.outputs), "blobs": names,
            "layers": runs}


def _forward_one(net, inputs, names, per_layer, outputs_path):
    _set_inputs(net, inputs)
    arrays = {}
    layers = []
    if per_layer:
        for index, name in enumerate(net._layer_names):
            net._forward(index, index)
            tops = [net._blob_names[i] for i in net._top_ids(index)]
            keys = []
            for position, top in enumerate(tops):
                key = "L%d_%d" % (index, position)
                arrays[key] = net.blobs[top].data.copy()
                keys.append(key)
            layers.append({"name": name, "type": net.layers[index].type,
                           "bottoms": [net._blob_names[i] for i in net._bottom_ids(index)],
                           "tops": tops, "keys": keys})
    else:
        net.forward()
    for name in names:
        arrays["blob:" + name] = net.blobs[name].data.copy()
    np.savez(outputs_path, **arrays)
    return layers


def fill(request):
    caffe.set_mode_cpu()
    caffe.set_random_seed(int(request.get("seed", 0)))
    net = caffe.Net(request["prototxt"], caffe.TEST)
    overrides = request.get("overrides")
    if overrides:
        with np.load(overrides) as data:
            for key in data.files:
                layer, index = key.rsplit("/", 1)
                target = net.params[layer][int(index)].data
                target[...] = data[key].reshape(target.shape)
    net.save(request["caffemodel"])
    return {"params": {name: [list(b.data.shape) for b in blobs] for name, blobs in net.params.items()}}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: caffe_runner.py REQUEST.json\n")
        return 2
    with open(argv[1]) as handle:
        request = json.load(handle)
    handlers = {"forward": forward, "fill": fill}
    try:
        response = handlers[request["mode"]](request)
    except Exception as err:  # reported to the driving process as one line
        sys.stderr.write("caffe-runner: %s: %s\n" % (type(err).__name__, err))
        return 3
    with open(request["response"], "w") as handle:
        json.dump(response, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
