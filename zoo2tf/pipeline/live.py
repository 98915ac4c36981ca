"""The terminal side of `zoo2tf run`: a live progress bar and the final summary table."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zoo2tf.pipeline import progress
from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.summary import RunSummary

STATUS_STYLE = {"converted": "green", "failed": "red", "skipped": "yellow"}


class LiveProgress:
    """Shows one bar over the planned models while the flow runs in this process."""

    def __init__(self, console: Console):
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                 transient=False)
        self.task = self.progress.add_task("scanning the catalog", total=None)

    def __call__(self, event: str, payload: Any) -> None:
        if event == "recovered" and payload:
            self.progress.console.print(
                f"[yellow]closed {len(payload)} attempts left open by a dead run[/yellow]")
        elif event == "planned":
            plan = payload.plan
            self.progress.update(self.task, total=len(plan.items),
                                 description=f"{len(plan.items)} models planned, "
                                             f"{len(plan.up_to_date)} up to date")
        elif event == "model":
            style = STATUS_STYLE.get(payload.status, "white")
            self.progress.advance(self.task)
            self.progress.update(self.task, description=(
                f"[{style}]{payload.status:9}[/{style}] {payload.model_id[:40]}"))

    def __enter__(self) -> LiveProgress:
        progress.add_listener(self)
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        progress.remove_listener(self)


def print_summary(console: Console, summary: RunSummary, options: RunOptions) -> None:
    table = Table(title=f"zoo2tf run {summary.run_id} — catalog {summary.catalog_revision}")
    for column in ("model", "status", "validation", "seconds", "category / reason"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for row in summary.table_rows():
        style = STATUS_STYLE.get(str(row["status"]), "white")
        table.add_row(str(row["model"]), f"[{style}]{row['status']}[/{style}]",
                      str(row["validation"]), f"{row['seconds']:.1f}",
                      str(row["category"] or row["reason"]))
    if summary.outcomes:
        console.print(table)
    c = summary.counts
    console.print(
        f"[bold]{summary.entries} catalog entries[/bold]: {summary.planned} planned "
        f"({summary.new} new, {summary.changed} changed), {summary.up_to_date} up to date; "
        f"[green]{c.converted} converted[/green], [red]{c.failed} failed[/red], "
        f"[yellow]{c.skipped} skipped[/yellow] in {summary.seconds:.1f} s.")
    if summary.newly_failing:
        console.print(f"[red]newly failing:[/red] {', '.join(summary.newly_failing)}")
    db = "" if options.db_url == _default_db() else f" --db '{options.db_url}'"
    console.print(
        "\nNext: [bold]zoo2tf ls" + db + "[/bold] lists every model's status, "
        "[bold]zoo2tf failures" + db + "[/bold] groups the failures, "
        "[bold]zoo2tf show MODEL[/bold] details one model, and "
        "[bold]zoo2tf dashboard" + db + "[/bold] opens the web dashboard.")


def _default_db() -> str:
    from zoo2tf.config import default_db_url

    return default_db_url()
