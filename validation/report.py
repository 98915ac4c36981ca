"""The ValidationReport: everything one validation found, JSON-serialisable (validation.json)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from validation.diagnosis import LayerDivergence
from validation.metrics import OutputComparison, Thresholds
from validation.reference_defects import DefectHit
from validation.samples import InputPreprocessing

STATUSES = ("passed", "failed", "known_reference_defect", "reference_unavailable")
REPORT_FILE = "validation.json"


@dataclass(frozen=True)
class ClassGuess:
    index: int
    probability: float
    label: str | None


@dataclass(frozen=True)
class SampleResult:
    sample: str
    kind: str  # image, mnist, cifar, random
    source: str | None
    outputs: tuple[OutputComparison, ...]
    label: int | None = None  # known class of the sample
    reference_top5: tuple[ClassGuess, ...] = ()  # of the first classifier output
    converted_top5: tuple[ClassGuess, ...] = ()

    @property
    def passed(self) -> bool:
        return all(o.within_tolerance for o in self.outputs)

    @property
    def converted_label_correct(self) -> bool | None:
        if self.label is None or not self.converted_top5:
            return None
        return self.converted_top5[0].index == self.label


@dataclass(frozen=True)
class Timings:
    reference_s: float = 0.0
    converted_s: float = 0.0
    compare_s: float = 0.0
    diagnosis_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.reference_s + self.converted_s + self.compare_s + self.diagnosis_s


@dataclass(frozen=True)
class ValidationReport:
    prototxt: str
    caffemodel: str | None
    converted_dir: str
    reference: str  # "opencv" or "caffe"
    reference_version: str
    converted_runtime: str  # e.g. "tensorflow 2.21.0"
    status: str  # one of STATUSES
    reason: str  # one line: why this status
    thresholds: Thresholds
    preprocessing: InputPreprocessing | None
    samples: tuple[SampleResult, ...] = ()
    first_divergence: LayerDivergence | None = None
    known_defects: tuple[DefectHit, ...] = ()
    unavailable_layer: str | None = None
    unavailable_layer_type: str | None = None
    timings: Timings = field(default_factory=Timings)
    created_at: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        data = asdict(self)
        for sample, result in zip(data["samples"], self.samples):
            sample["passed"] = result.passed
            sample["converted_label_correct"] = result.converted_label_correct
        data["timings"]["total_s"] = self.timings.total_s
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    def write(self, folder: Path | None = None) -> Path:
        path = Path(folder or self.converted_dir) / REPORT_FILE
        path.write_text(self.to_json())
        return path

    def rows(self) -> list[dict]:
        """One dict per (sample, output), with the validation table's column names."""
        preprocessing = self.preprocessing.to_dict() if self.preprocessing else {}
        divergent = self.first_divergence.layer if self.first_divergence else None
        return [
            {"sample": s.sample, "output": o.output, "reference_runtime": self.reference,
             "reference_version": self.reference_version, "max_abs_error": o.max_abs_error,
             "max_rel_error": o.max_rel_error, "cosine_similarity": o.cosine_similarity,
             "passed": o.within_tolerance,
             "top1_agree": o.top1_agree, "top5_overlap": o.top5_overlap,
             "first_divergent_layer": divergent, "preprocessing": preprocessing}
            for s in self.samples for o in s.outputs
        ]


def read_report(converted_dir: Path) -> dict | None:
    """validation.json of a converted-model folder as a plain dict, or None."""
    path = Path(converted_dir) / REPORT_FILE
    return json.loads(path.read_text()) if path.is_file() else None
