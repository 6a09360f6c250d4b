"""The one interface every monitor implements: episode (and context) in, flags out.

Like scikit-learn's estimators, monitors are small classes with one method that
matters (`check`), registered by name so the pipeline can run any list of them
and a new monitor is one new module that calls `register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from auditor.models import Episode, Flag
from rules.schema import Rulebook


@dataclass
class AuditContext:
    """What a monitor may read beyond its own episode.

    `episodes` holds every episode of the audit, for cross-episode checks
    (submission copies); `prior_flags` holds the flags of monitors that already ran on
    an episode (the LLM monitor uses them to choose its windows; it never removes them).
    """

    rulebook: Rulebook
    episodes: list[Episode] = field(default_factory=list)
    run_path: str = ""
    notebooks: str | None = None  # a notebooks DIR or a plagiarism INDEX file
    competitions_dir: str | None = None
    data_dir: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    prior_flags: dict[str, list[Flag]] = field(default_factory=dict)


class Monitor(ABC):
    """A detector. Subclasses set `name` and implement `check`."""

    name: ClassVar[str]
    #: run by default when the user does not pass --monitors
    default: ClassVar[bool] = True
    #: monitors run in increasing order; later ones see earlier ones' flags in ctx.prior_flags
    order: ClassVar[int] = 50

    def unavailable(self, ctx: AuditContext) -> str | None:
        """Why this monitor cannot run in this audit (shown in `skipped_monitors`), or None."""
        return None

    def prepare(self, ctx: AuditContext) -> None:
        """Build what is shared by all episodes (indexes, clients) once per audit."""

    @abstractmethod
    def check(self, episode: Episode, ctx: AuditContext) -> list[Flag]:
        """Flags for one episode; every flag's evidence must come from `monitors.evidence`."""

    def finish(self, ctx: AuditContext) -> dict[str, Any]:
        """Usage figures for the report (the LLM monitor's tokens); {} for most monitors."""
        return {}


_REGISTRY: dict[str, type[Monitor]] = {}


def register(cls: type[Monitor]) -> type[Monitor]:
    """Class decorator: make a monitor known to the pipeline under `cls.name`."""
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Monitor]]:
    """All known monitors; importing `monitors` loads every module of the package."""
    import monitors  # noqa: F401  (imports the modules, which register themselves)

    return dict(_REGISTRY)
