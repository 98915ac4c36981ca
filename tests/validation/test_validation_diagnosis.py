from pathlib import Path

import numpy as np

from caffe2tf.net import load_net
from validation.diagnosis import first_divergence
from validation.metrics import Thresholds

NET = Path(__file__).resolve().parents[1] / "goldens/layers/batchnorm_scale/net.prototxt"  # bn -> scale


def _values(scale: float = 1.0) -> dict[str, tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(0)
    return {"bn": (rng.standard_normal((1, 4, 3, 3)) * scale,),
            "scale": (rng.standard_normal((1, 4, 3, 3)),)}


def test_a_folded_pair_is_compared_as_the_scale_layer_and_its_error_located():
    graph = load_net(NET)
    reference = _values()
    converted = {"bn+scale": (reference["scale"][0] + 0.01,)}  # the emitter folds BatchNorm+Scale
    found, compared = first_divergence(graph, reference, converted, Thresholds(), "s")
    assert (found.layer, found.layer_type, found.top, compared) == ("scale", "Scale", "scale", 1)
    assert abs(found.max_abs_error - 0.01) < 1e-9


def test_agreeing_layers_give_no_divergence():
    graph = load_net(NET)
    reference = _values()
    converted = {name: tuple(v + 1e-6 for v in values) for name, values in reference.items()}
    assert first_divergence(graph, reference, converted, Thresholds(), "s") == (None, 2)


def test_tolerance_follows_the_magnitude_of_the_layers_inputs():
    graph = load_net(NET)
    reference = _values(scale=1e4)  # the Scale layer reads values around 1e4
    converted = {"bn": reference["bn"], "scale": (reference["scale"][0] + 0.5,)}
    assert first_divergence(graph, reference, converted, Thresholds(), "s")[0] is None
    converted["scale"] = (reference["scale"][0] + 5.0,)
    assert first_divergence(graph, reference, converted, Thresholds(), "s")[0].layer == "scale"
