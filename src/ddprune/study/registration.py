"""Pre-registration: what a study will test, recorded before any of its results exist.

A comparison is *pre-registered* only where a record of it precedes the results it is tested
on; otherwise it is *designated*. The first ``snakemake`` run of a study writes
``results/<study>/preregistration.yaml`` before any job starts (Snakemake's ``onstart``, not
in a dry run): the primary comparison, the families it is tested in, alpha, the equivalence
margin and the interval level, every config section the numbers depend on (with defaults
filled in) and a SHA-256 of each, the time, and whether any file of the study was already on
disk (then the record is a designation, and the page says so). Every later run -- and the
answer job -- checks the config against it: a study whose primary, levels or design differ
from its registration refuses to run or answer, naming each field and the registration's
time, until it is renamed or re-registered (the record deleted, which makes a study with
results a designated one). An option that a later version of ddprune adds is no departure
while it keeps its default: that default is the behaviour the registration ran under. Torch-
free: planning reads it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ddprune.foundations.atomic import write_text
from ddprune.foundations.schemas import section_defaults
from ddprune.study.runs import Study

# The config sections that decide a study's numbers (platform does not: only rounding).
DESIGN = (
    "datasets",
    "sweep",
    "train",
    "threshold",
    "prune",
    "baselines",
    "closed_form",
    "answer",
)


_DEFAULT_MARGIN = section_defaults("answer")["margin"]


class RegistrationError(ValueError):
    """The config differs from the study's registration; the message says how and when."""


def section_hash(value: Any) -> str:
    """SHA-256 of a config section as canonical JSON (sorted keys): equal for equal values."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Registration:
    study: str
    registered: str  # ISO 8601, UTC
    before_results: bool  # no training result of the study existed when it was written
    primary: dict[str, str]
    families: list[str]
    alpha: float
    level: float
    sections: dict[str, str]  # section -> section_hash
    # section -> its values, defaults filled in (None in a record of the first version, which
    # kept only the hashes: its sections are then compared by hash)
    design: dict[str, Any] | None = None
    # the equivalence margin (None in a record written before ddprune tested equivalence:
    # its margin is then the default, designated by the code rather than registered)
    margin: float | None = None

    @classmethod
    def of(cls, study: Study, now: datetime, before_results: bool) -> Registration:
        answer, config = study.answer, study.config
        families = sorted({f"{r.dataset}/{r.model}/noise{r.noise_label}" for r in study.runs})
        return cls(
            study=study.name,
            registered=now.astimezone(UTC).isoformat(timespec="seconds"),
            before_results=before_results,
            primary=dict(answer.primary),
            families=families,
            alpha=answer.alpha,
            level=answer.level,
            margin=answer.margin,
            sections={name: section_hash(config.get(name)) for name in DESIGN},
            design={name: config.get(name) for name in DESIGN},
        )

    @property
    def kind(self) -> str:
        """``pre-registered`` where the record precedes every result, else ``designated``."""
        return "pre-registered" if self.before_results else "designated"

    def quote(self) -> str:
        """The registration in a sentence, for the answer page."""
        primary = ", ".join(f"{k} {v}" for k, v in self.primary.items())
        when = (
            "before any training result existed"
            if self.before_results
            else "after training results existed, so it designates rather than pre-registers"
        )
        points = None if self.margin is None else round(100 * self.margin, 6)
        margin = (
            f"the equivalence margin, ±{points:g} point{'s' * (points != 1)}, with it"
            if points is not None
            else "the record predates the equivalence margin, which is the default, "
            "designated rather than registered"
        )
        return (
            f"The primary comparison ({primary}; alpha {self.alpha:g}, tested alone in each "
            f"family: {', '.join(self.families)}) was registered on {self.registered}, {when} "
            f"({margin}; preregistration.yaml keeps a SHA-256 of each config section it "
            "depends on). The order the other comparisons are tested in is fixed by the code "
            "(the page's question order), not by this record."
        )

    def differences(self, study: Study) -> list[str]:
        """How ``study``'s config departs from this registration: one line per field."""
        now = Registration.of(study, datetime.now(UTC), self.before_results)
        found = [
            f"answer.{name}: registered {getattr(self, name)!r}, the config says "
            f"{getattr(now, name)!r}"
            for name in ("primary", "alpha", "level", "margin")
            if getattr(self, name) != getattr(now, name)
            and not (name == "margin" and self.margin is None and now.margin == _DEFAULT_MARGIN)
        ]
        for name in DESIGN:
            if name != "answer" and self.sections.get(name) != now.sections[name]:
                if self.design is None:
                    found.append(f"{name}: changed since the registration (its SHA-256)")
                else:
                    # a section added after the record: each of its keys was absent then
                    found += _section_changes(name, self.design.get(name, {}), now.design[name])
        return found


def _section_changes(name: str, registered: Any, current: Any) -> list[str]:
    """How one section departs from its registered values: a line per changed key, none for
    a key the registration predates that holds its default."""
    if not isinstance(registered, dict) or not isinstance(current, dict):
        return [f"{name}: registered {registered!r}, the config says {current!r}"]
    defaults, absent = section_defaults(name), object()
    found = []
    for key in sorted(set(registered) | set(current)):
        before, now = registered.get(key, absent), current.get(key, absent)
        if before == now or (before is absent and now == defaults.get(key, absent)):
            continue
        said = ["(absent)" if v is absent else repr(v) for v in (before, now)]
        found.append(f"{name}.{key}: registered {said[0]}, the config says {said[1]}")
    return found


def load_registration(path: str | Path) -> Registration:
    return Registration(**yaml.safe_load(Path(path).read_text()))


def register(path: str | Path, study: Study) -> Registration:
    """The study's registration at ``path`` (in the study's results folder): written now if
    there is none -- a designation if any other file of the study is there already -- else
    checked against the config, a :class:`RegistrationError` when they differ."""
    path = Path(path)
    if not path.exists():
        before = not any(p.is_file() for p in path.parent.rglob("*"))
        registration = Registration.of(study, datetime.now(UTC), before)
        write_text(path, yaml.safe_dump(asdict(registration), sort_keys=False))
        return registration
    registration = load_registration(path)
    if problems := registration.differences(study):
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise RegistrationError(
            f"{path} registered study {registration.study!r} on {registration.registered}; "
            f"the config departs from it:\n{lines}\n"
            "A registered study answers only what it registered. To ask another question, "
            "give the study another name (study: NAME); to re-register this one, delete that "
            "file (its results exist, so its primary becomes designated, not pre-registered)."
        )
    return registration
