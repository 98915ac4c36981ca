"""Comparing a converted model's output with the reference's: errors, cosine, top-k agreement."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Thresholds:
    """Pass when max|d| <= rel_tolerance * max(1, max|ref|) on every output, and (if
    require_top1) the top-1 class agrees on every natural sample of a classifier."""

    rel_tolerance: float = 1e-4
    require_top1: bool = True

    def tolerance(self, reference: np.ndarray) -> float:
        return self.rel_tolerance * max(1.0, float(np.max(np.abs(reference))) if reference.size else 1.0)


@dataclass(frozen=True)
class OutputComparison:
    output: str  # Caffe blob name
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float  # max|d| / max(1, max|ref|)
    cosine_similarity: float
    within_tolerance: bool
    top1_agree: bool | None = None  # classifiers only
    top5_overlap: float | None = None  # |top5(ref) & top5(conv)| / 5, classifiers only
    reference_top5: tuple[int, ...] | None = None
    converted_top5: tuple[int, ...] | None = None


def is_classifier_output(reference: np.ndarray) -> bool:
    """A softmax-like output: one probability vector of >= 2 classes per batch item."""
    flat = _per_item(reference)
    if flat is None or flat.shape[1] < 2:
        return False
    return bool(np.all(flat >= -1e-6) and np.allclose(flat.sum(axis=1), 1.0, atol=1e-3))


def _per_item(array: np.ndarray) -> np.ndarray | None:
    squeezed = array.reshape(array.shape[0], -1) if array.ndim >= 2 else None
    if squeezed is None or int(np.prod(array.shape[2:], dtype=np.int64)) != 1:
        return None  # spatial maps (N x C x H x W with H*W > 1) are not class vectors
    return squeezed


def top_k(vector: np.ndarray, k: int) -> tuple[int, ...]:
    order = np.argsort(-vector, kind="stable")
    return tuple(int(i) for i in order[:k])


def compare_output(name: str, reference: np.ndarray, converted: np.ndarray,
                   thresholds: Thresholds) -> OutputComparison:
    reference = np.asarray(reference, np.float64)
    converted = np.asarray(converted, np.float64)
    if converted.shape != reference.shape:
        if converted.size != reference.size:
            raise ValueError(f"output '{name}': converted shape {converted.shape} "
                             f"!= reference shape {reference.shape}")
        converted = converted.reshape(reference.shape)
    diff = np.abs(converted - reference)
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = max(1.0, float(np.abs(reference).max()) if reference.size else 1.0)
    norms = float(np.linalg.norm(reference) * np.linalg.norm(converted))
    cosine = float(np.dot(reference.ravel(), converted.ravel()) / norms) if norms > 0 else \
        (1.0 if max_abs == 0 else 0.0)
    result = dict(output=name, shape=tuple(reference.shape), max_abs_error=max_abs,
                  max_rel_error=max_abs / scale, cosine_similarity=cosine,
                  within_tolerance=bool(max_abs <= thresholds.tolerance(reference)))
    if is_classifier_output(reference):
        ref_items, conv_items = _per_item(reference), _per_item(converted)
        k = min(5, ref_items.shape[1])
        ref_top = [top_k(v, k) for v in ref_items]
        conv_top = [top_k(v, k) for v in conv_items]
        result.update(
            top1_agree=all(r[0] == c[0] for r, c in zip(ref_top, conv_top)),
            top5_overlap=float(np.mean([len(set(r) & set(c)) / k for r, c in zip(ref_top, conv_top)])),
            reference_top5=ref_top[0], converted_top5=conv_top[0])
    return OutputComparison(**result)
