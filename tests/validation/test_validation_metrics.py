import numpy as np
import pytest

from validation.metrics import Thresholds, compare_output, is_classifier_output, top_k


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_identical_outputs_have_zero_error_and_unit_cosine():
    ref = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    result = compare_output("x", ref, ref.copy(), Thresholds())
    assert result.max_abs_error == 0.0 and result.cosine_similarity == pytest.approx(1.0)
    assert result.within_tolerance and result.top1_agree is None


def test_tolerance_scales_with_the_reference_magnitude_but_never_below_one():
    ref = np.zeros((1, 10), np.float32)
    ref[0, 0] = 1000.0
    assert compare_output("x", ref, ref + 0.09, Thresholds()).within_tolerance  # tol 0.1
    assert not compare_output("x", ref, ref + 0.11, Thresholds()).within_tolerance
    small = np.full((1, 4), 1e-3, np.float32)
    assert compare_output("x", small, small + 9e-5, Thresholds()).within_tolerance  # tol 1e-4
    assert not compare_output("x", small, small + 2e-4, Thresholds()).within_tolerance
    assert compare_output("x", small, small + 2e-4, Thresholds(rel_tolerance=1e-3)).within_tolerance


def test_classifier_outputs_get_top1_and_top5_agreement():
    logits = np.random.default_rng(1).standard_normal((1, 1000))
    ref = _softmax(logits)
    assert is_classifier_output(ref) and is_classifier_output(ref.reshape(1, 1000, 1, 1))
    assert not is_classifier_output(logits)
    swapped = ref.copy()
    first, second = top_k(ref[0], 2)
    swapped[0, [first, second]] = swapped[0, [second, first]]
    result = compare_output("prob", ref, swapped, Thresholds())
    assert result.top1_agree is False and result.top5_overlap == 1.0
    assert result.reference_top5[0] == first and result.converted_top5[0] == second


def test_spatial_maps_are_not_classifiers_and_sizes_must_match():
    ref = _softmax(np.random.default_rng(2).standard_normal((1, 21 * 4))).reshape(1, 21, 2, 2)
    assert not is_classifier_output(ref)
    with pytest.raises(ValueError, match="output 'x'"):
        compare_output("x", ref, ref[:, :20], Thresholds())
