"""A grouped convolution followed by ReLU must run from the SavedModel under TensorFlow's
Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0), where grappler fuses conv+bias+relu into a kernel
that refuses grouped convolutions."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

PROTOTXT = """
name: "grouped"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 6 dim: 9 dim: 9 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 9 kernel_size: 3 group: 3 pad: 1 } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
"""


def test_grouped_conv_saved_model_runs_on_eigen_kernels(tmp_path: Path) -> None:
    import cv2

    from caffe2tf.convert import convert
    from caffe2tf.synth import write_synthetic_caffemodel

    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text(PROTOTXT)
    weights = write_synthetic_caffemodel(prototxt, tmp_path / "net.caffemodel", seed=3)
    convert(prototxt, weights, tmp_path / "out", io_layout="nchw")
    x = np.random.default_rng(0).standard_normal((1, 6, 9, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({str(tmp_path / 'out' / 'saved_model')!r})
        f = m.signatures["serving_default"]
        y = f(data=tf.constant(np.load({str(tmp_path / 'x.npy')!r})))["conv"].numpy()
        np.save({str(tmp_path / 'y.npy')!r}, y)
    """)
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
    net.setInput(x)
    expected = net.forward("relu")
    got = np.load(tmp_path / "y.npy")
    assert np.max(np.abs(got - expected)) <= 1e-4 * max(1.0, float(np.max(np.abs(expected))))
