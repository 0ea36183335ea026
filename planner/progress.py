"""Stage-by-stage progress of a run: a rich display on the console and the same lines in ``run.log``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

#: The stages of a quarterly run, in order (a stage with nothing to do is reported as skipped).
STAGES = (
    "validate",
    "build paths",
    "attribute",
    "attribution priors",
    "model",
    "readiness gate",
    "response curves",
    "optimize",
    "record",
    "report",
)


class RunProgress:
    """One progress line per stage with its elapsed time; the model stage also shows the sampler's progress.

    Every stage start, end (with seconds) and note goes to the ``growth_allocator.run`` logger, which writes
    ``run.log`` in the run folder once :meth:`log_to` is called.
    """

    def __init__(self, console: Console | None = None, show: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.logger = logging.getLogger("growth_allocator.run")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self._handler: logging.Handler | None = None
        self.progress = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not show,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> RunProgress:
        self.progress.start()
        for stage in STAGES:
            self.tasks[stage] = self.progress.add_task(stage, total=1.0, note="", start=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler.close()

    def log_to(self, path: Path) -> None:
        """Write this run's log lines to ``path`` (the run folder's ``run.log``)."""
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        self.logger.addHandler(handler)
        self._handler = handler

    def note(self, text: str) -> None:
        self.logger.info(text)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage; its line shows done (✓) or failed (✗) and the seconds it took."""
        task = self.tasks[name]
        self.progress.start_task(task)
        self.logger.info("stage %s: start", name)
        t0 = time.perf_counter()
        try:
            yield
        except BaseException as err:
            seconds = time.perf_counter() - t0
            self.progress.update(task, note=f"[red]✗ {type(err).__name__}")
            self.logger.error("stage %s: %s after %.1f s: %s", name, type(err).__name__, seconds, err)
            raise
        seconds = time.perf_counter() - t0
        self.seconds[name] = seconds
        self.progress.update(task, completed=1.0, note=f"[green]✓ {seconds:.1f} s")
        self.progress.stop_task(task)
        self.logger.info("stage %s: done in %.2f s", name, seconds)

    def skip(self, name: str, why: str) -> None:
        task = self.tasks[name]
        self.progress.update(task, completed=1.0, note=f"[dim]skipped: {why}")
        self.logger.info("stage %s: skipped (%s)", name, why)

    def sampler(self, name: str = "model"):
        """A callback for :class:`mmm.Sampler`'s ``progress``: the model line follows the sampler."""
        task = self.tasks[name]

        def report(update: object) -> None:
            fraction = getattr(update, "fraction", None)
            stage = getattr(update, "stage", "sampling")
            elapsed = float(getattr(update, "elapsed_s", 0.0))
            if fraction is None:  # nutpie says only that it is still running
                self.progress.update(task, note=f"{stage} {elapsed:.0f} s")
            else:
                done = min(max(float(fraction), 0.0), 1.0)
                self.progress.update(task, completed=done, note=f"{stage} {100 * done:.0f}%")

        return report
