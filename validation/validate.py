"""validate_model: a converted model against an independent Caffe runtime, on sample inputs.

Status rules (stored with the report):
- passed: every output of every sample within tolerance, and top-1 agrees on natural samples.
- known_reference_defect: outputs disagree, the net has a layer whose parameters trigger a known
  defect of the reference, and the per-layer diagnosis finds that layer (or cannot run).
- failed: outputs disagree for any other reason (the first divergent layer is named).
- reference_unavailable: the reference cannot run the net (the layer it lacks is named).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from caffe2tf.ir import Graph
from validation.converted import ConvertedModel
from validation.diagnosis import LayerDivergence, first_divergence
from validation.metrics import OutputComparison, Thresholds, compare_output, is_classifier_output, top_k
from validation.reference_defects import DefectHit, defect_hits
from validation.references import Reference, ReferenceUnavailable, open_reference
from validation.report import ClassGuess, SampleResult, Timings, ValidationReport
from validation.samples import InputPreprocessing, Sample, choose_samples, class_names, preprocessing_for


def validate_model(prototxt: str | Path, caffemodel: str | Path | None, converted_dir: str | Path, *,
                   reference: str = "opencv", samples: Sequence[Sample] | None = None,
                   preprocessing: InputPreprocessing | None = None,
                   thresholds: Thresholds = Thresholds(), diagnose: bool = True,
                   write: bool = True,
                   input_shapes: Mapping[str, tuple[int, ...]] | None = None) -> ValidationReport:
    """Compare the converted model in `converted_dir` with `reference` on sample inputs.

    `input_shapes` is what the conversion was given for nets whose data layers do not say.
    Writes validation.json beside the converted model unless write=False.
    """
    from caffe2tf.net import load_net

    graph = load_net(prototxt, input_shapes=input_shapes)
    preprocessing = preprocessing or preprocessing_for(graph)
    samples = list(samples) if samples is not None else choose_samples(graph, preprocessing)
    converted = ConvertedModel(Path(converted_dir))
    base = ValidationReport(
        prototxt=str(prototxt), caffemodel=str(caffemodel) if caffemodel else None,
        converted_dir=str(converted_dir), reference=reference, reference_version="",
        converted_runtime=f"tensorflow {converted.tf_version}", status="failed", reason="",
        thresholds=thresholds, preprocessing=preprocessing,
        known_defects=defect_hits(graph.layers, reference),
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    report = _run(base, graph, Path(caffemodel) if caffemodel else None, converted, samples, diagnose)
    if write:
        report.write()
    return report


def _run(base: ValidationReport, graph: Graph, caffemodel: Path | None, converted: ConvertedModel,
         samples: list[Sample], diagnose: bool) -> ValidationReport:
    clock = {"reference_s": 0.0, "converted_s": 0.0, "compare_s": 0.0, "diagnosis_s": 0.0}
    try:
        start = time.perf_counter()
        ref = open_reference(base.reference, graph, caffemodel, converted.output_blobs)
        clock["reference_s"] += time.perf_counter() - start
        base = replace(base, reference_version=ref.version)
        start = time.perf_counter()
        expected = ref.outputs_many([s.inputs for s in samples], converted.output_blobs)
        clock["reference_s"] += time.perf_counter() - start
        results = [_compare_sample(graph, want, converted, sample, base.thresholds, clock)
                   for want, sample in zip(expected, samples)]
    except ReferenceUnavailable as err:
        return replace(base, status="reference_unavailable", reason=str(err),
                       unavailable_layer=err.layer, unavailable_layer_type=err.layer_type,
                       timings=Timings(**clock))
    failing = [r for r in results if not _sample_ok(r, base.thresholds)]
    divergence = None
    if failing and diagnose:
        start = time.perf_counter()
        divergence = _diagnose(graph, ref, converted, samples, failing[0], base.thresholds)
        clock["diagnosis_s"] = time.perf_counter() - start
    status, reason = _classify(results, failing, divergence, base.known_defects, base.thresholds)
    return replace(base, samples=tuple(results), first_divergence=divergence, status=status,
                   reason=reason, timings=Timings(**clock))


def _compare_sample(graph: Graph, expected: dict[str, np.ndarray], converted: ConvertedModel,
                    sample: Sample, thresholds: Thresholds, clock: dict) -> SampleResult:
    blobs = converted.output_blobs
    start = time.perf_counter()
    got = converted.run(sample.inputs)
    end = time.perf_counter()
    comparisons = tuple(compare_output(b, expected[b], got[b], thresholds) for b in blobs)
    clock["converted_s"] += end - start
    clock["compare_s"] += time.perf_counter() - end
    reference_top5, converted_top5 = (), ()
    for blob in blobs:
        if is_classifier_output(expected[blob]):
            input_shape = next(iter(graph.inputs.values()), None)
            names = class_names(int(expected[blob][0].size), input_shape)
            reference_top5 = top_guesses(expected[blob][0], names)
            converted_top5 = top_guesses(got[blob].reshape(expected[blob].shape)[0], names)
            break
    return SampleResult(sample.name, sample.kind, sample.source, comparisons, sample.label,
                        reference_top5, converted_top5)


def top_guesses(probabilities: np.ndarray, names: list[str] | None, k: int = 5) -> tuple[ClassGuess, ...]:
    flat = np.asarray(probabilities, np.float64).reshape(-1)
    return tuple(ClassGuess(i, float(flat[i]), names[i] if names else None)
                 for i in top_k(flat, min(k, flat.size)))


def _sample_ok(result: SampleResult, thresholds: Thresholds) -> bool:
    top1_ok = not (thresholds.require_top1 and result.kind != "random"
                   and any(o.top1_agree is False for o in result.outputs))
    return result.passed and top1_ok


def _diagnose(graph: Graph, ref: Reference, converted: ConvertedModel, samples: list[Sample],
              failing: SampleResult, thresholds: Thresholds) -> LayerDivergence | None:
    sample = next(s for s in samples if s.name == failing.sample)
    try:
        reference_layers = ref.layer_outputs(sample.inputs)
    except ReferenceUnavailable:
        return None
    divergence, _ = first_divergence(graph, reference_layers, converted.layer_outputs(sample.inputs),
                                     thresholds, sample.name, sample.inputs)
    return divergence


def _worst(results: list[SampleResult]) -> OutputComparison:
    return max((o for r in results for o in r.outputs), key=lambda o: o.max_rel_error)


def _classify(results: list[SampleResult], failing: list[SampleResult],
              divergence: LayerDivergence | None, hits: tuple[DefectHit, ...],
              thresholds: Thresholds) -> tuple[str, str]:
    if not results:
        return "failed", "no samples to compare"
    worst = _worst(results)
    summary = (f"worst output '{worst.output}': max|d| {worst.max_abs_error:.3g} "
               f"(relative {worst.max_rel_error:.3g}, tolerance {thresholds.rel_tolerance:g})")
    if not failing:
        note = f"; known reference defects present but not triggered: {_rules(hits)}" if hits else ""
        return "passed", f"{len(results)} samples within tolerance; {summary}{note}"
    hit_layers = {h.layer for h in hits}
    where = (f"first divergent layer '{divergence.layer}' ({divergence.layer_type}), "
             f"max|d| {divergence.max_abs_error:.3g}") if divergence else \
        "no layer diverges beyond float32 rounding of its inputs' magnitude (accumulated rounding)"
    if hits and (divergence is None or divergence.layer in hit_layers):
        return "known_reference_defect", f"{where}; {_rules(hits)}; {summary}"
    return "failed", f"{len(failing)}/{len(results)} samples disagree; {where}; {summary}"


def _rules(hits: tuple[DefectHit, ...]) -> str:
    rules = sorted({h.rule for h in hits})
    layers = sorted({h.layer for h in hits})
    return f"{' / '.join(rules)} (layers: {', '.join(layers[:6])}{'...' if len(layers) > 6 else ''})"
