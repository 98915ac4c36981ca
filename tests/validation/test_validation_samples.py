import json
from pathlib import Path

import numpy as np
import pytest

from caffe2tf.net import load_net
from validation.samples import (
    InputPreprocessing, choose_samples, class_names, imagenet_mean_pixel, preprocessing_for, read_image,
)


def test_lenet_gets_the_ten_labelled_mnist_digits_scaled_by_1_256(lenet):
    graph = load_net(lenet[0])
    pre = preprocessing_for(graph)
    assert (pre.channels, pre.scale, pre.mean_values) == (1, 0.00390625, ())
    samples = choose_samples(graph, pre)
    assert len(samples) == 10 and {s.kind for s in samples} == {"mnist"}
    for sample in samples:
        assert sample.label == int(sample.name.split("_")[1])
        blob = sample.inputs["data"]
        assert blob.shape == (1, 1, 28, 28) and blob.dtype == np.float32
        assert 0.0 <= blob.min() and blob.max() < 1.0


def test_imagenet_size_nets_get_natural_images_minus_the_published_mean_pixel(snapshot_dir):
    graph = load_net(snapshot_dir / "models/bvlc/bvlc_reference_caffenet/deploy.prototxt")
    pre = preprocessing_for(graph)
    published = json.loads((snapshot_dir / "reference/caffenet_cat_top5.json").read_text())["preprocessing"]
    for value in pre.mean_values:  # the B, G, R numbers the Caffe notebook printed
        assert f"{value:.10f}"[:10] in published
    samples = choose_samples(graph, pre)
    assert [s.name for s in samples] == ["cat", "fish-bike", "space_shuttle"]
    cat = samples[0].inputs["data"]
    assert cat.shape == (1, 3, 227, 227)
    raw = read_image(snapshot_dir / "images/cat.jpg")
    import cv2
    expected = cv2.resize(raw, (227, 227), interpolation=cv2.INTER_AREA).astype(np.float32)
    np.testing.assert_allclose(cat[0, 0], expected[:, :, 0] - imagenet_mean_pixel()[0], atol=1e-4)


def test_data_layer_transform_is_followed_and_a_missing_mean_file_recorded(snapshot_dir):
    cifar = preprocessing_for(load_net(snapshot_dir / "weights/cifar10_quick/prediction_example.prototxt"))
    assert cifar.source.startswith("data layer") and cifar.mean_values == ()
    assert any("mean.binaryproto" in note for note in cifar.notes)
    nin = preprocessing_for(load_net(snapshot_dir / "models/community/nin_imagenet/train_val.prototxt"))
    assert (nin.resize, nin.crop) == ((256, 256), (224, 224))
    assert nin.mean_values == imagenet_mean_pixel()


def test_cifar_nets_get_the_three_labelled_cifar_images(cifar10_quick):
    graph = load_net(cifar10_quick[0])
    samples = choose_samples(graph, preprocessing_for(graph))
    assert [(s.name, s.label) for s in samples] == [("dog10", 5), ("cat10", 3), ("truck10", 9)]
    assert class_names(10, (1, 3, 32, 32))[5] == "dog"


def test_non_image_inputs_get_seeded_random_tensors():
    two_inputs = Path(__file__).resolve().parents[1] / "goldens/layers/crop_offsets/net.prototxt"
    graph = load_net(two_inputs)
    assert preprocessing_for(graph) is None
    first, again = choose_samples(graph, None), choose_samples(graph, None)
    assert [s.kind for s in first] == ["random", "random"]
    for a, b in zip(first, again):
        assert set(a.inputs) == {"data", "ref"}
        np.testing.assert_array_equal(a.inputs["data"], b.inputs["data"])


def test_preprocessing_round_trips_through_json():
    pre = InputPreprocessing(3, (256, 256), (224, 224), (1.0, 2.0, 3.0), "x", 0.5, "why", ("n",))
    assert InputPreprocessing.from_dict(json.loads(json.dumps(pre.to_dict()))) == pre


def test_imagenet_labels_are_the_synset_words():
    names = class_names(1000, (1, 3, 224, 224))
    assert names[281] == "n02123045 tabby, tabby cat"
    assert class_names(7, (1, 3, 224, 224)) is None


@pytest.mark.parametrize("size", [(20, 30), (64, 48)])
def test_apply_resizes_any_image_to_the_input(size):
    pre = InputPreprocessing(3, size, None, (), None, 1.0, "test")
    image = np.random.default_rng(0).integers(0, 255, (100, 80, 3), dtype=np.uint8)
    assert pre.apply(image).shape == (1, 3, *size)
