"""A run's summary: counts, newly failing and newly fixed models, and its renderings
(the Prefect table and markdown artifacts, the CLI's final table)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.records import LastAttempt, RunCounts
from zoo2tf.pipeline.plan import Plan
from zoo2tf.pipeline.process import ModelOutcome


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    catalog_revision: str
    entries: int
    planned: int
    up_to_date: int
    deferred: int
    new: int
    changed: int
    removed: tuple[str, ...]
    outcomes: tuple[ModelOutcome, ...]
    newly_failing: tuple[str, ...]
    newly_fixed: tuple[str, ...]
    seconds: float
    work_seconds: float  # time spent inside the models' own steps, summed

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def counts(self) -> RunCounts:
        return RunCounts(new=self.new, changed=self.changed, converted=self.count("converted"),
                         failed=self.count("failed"), skipped=self.count("skipped"))

    def categories(self) -> Counter[str]:
        return Counter(o.category for o in self.outcomes if o.status == "failed")

    def table_rows(self) -> list[dict[str, object]]:
        return [{"model": o.model_id, "status": o.status, "validation": o.validation or "",
                 "seconds": o.seconds, "stage": o.stage or "", "category": o.category or "",
                 "reason": o.reason}
                for o in sorted(self.outcomes, key=lambda o: o.model_id)]

    def markdown(self) -> str:
        c = self.counts
        lines = [
            f"# zoo2tf nightly run {self.run_id}",
            "",
            f"Catalog revision `{self.catalog_revision}`: {self.entries} entries, "
            f"{self.planned} planned ({self.new} new, {self.changed} changed, "
            f"{len(self.removed)} removed), "
            f"{self.up_to_date} up to date, {self.deferred} deferred by --limit.",
            "",
            "| converted | failed | skipped | wall time | work time |",
            "| ---: | ---: | ---: | ---: | ---: |",
            f"| {c.converted} | {c.failed} | {c.skipped} | {self.seconds:.1f} s "
            f"| {self.work_seconds:.1f} s |",
            "",
        ]
        if self.categories():
            lines += ["## Failures by category", ""]
            lines += [f"- {cat}: {n}" for cat, n in self.categories().most_common()]
            lines.append("")
        for title, ids in (("Newly failing", self.newly_failing),
                           ("Newly fixed", self.newly_fixed)):
            lines += [f"## {title}", ""]
            lines += [f"- `{i}`" for i in ids] or ["- none"]
            lines.append("")
        return "\n".join(lines)


def summarize(run_id: int, revision: str, entries: int, plan: Plan, new: int, changed: int,
              removed: tuple[str, ...], outcomes: Sequence[ModelOutcome], before: Mapping[str, LastAttempt],
              seconds: float) -> RunSummary:
    failing, fixed = [], []
    for outcome in outcomes:
        previous = before.get(outcome.model_id)
        if previous is None:
            continue
        if previous.status == "converted" and outcome.status == "failed":
            failing.append(outcome.model_id)
        elif previous.status == "failed" and outcome.status == "converted":
            fixed.append(outcome.model_id)
    return RunSummary(run_id, revision, entries, len(plan.items), len(plan.up_to_date),
                      len(plan.deferred), new, changed, removed, tuple(outcomes),
                      tuple(sorted(failing)), tuple(sorted(fixed)), round(seconds, 3),
                      round(sum(o.seconds for o in outcomes), 3))
