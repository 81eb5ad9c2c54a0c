"""The figures of a run, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import DEFERRED, DISAGREEMENTS, Finding, Tally


@dataclass
class Report:
    soundness: Tally = field(default_factory=Tally)
    completeness: Tally = field(default_factory=Tally)
    equivalence: Tally = field(default_factory=Tally)
    # "Union:tag" of every type a model can use and upstream can build -> the config that reached it (built and
    # compared for equivalence), or None when none did; and the types that cannot be built, with the reason
    reached: dict[str, str | None] = field(default_factory=dict)
    unbuildable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unreached(self) -> list[str]:
        return sorted(name for name, source in self.reached.items() if source is None)

    def tallies(self) -> dict[str, Tally]:
        return {"soundness": self.soundness, "completeness": self.completeness, "equivalence": self.equivalence}

    def unknown(self) -> list[Finding]:
        return [f for t in self.tallies().values() for f in t.unknown()]

    def render(self) -> str:
        lines = ["Fidelity: the bundled schema vs stable-audio-tools 0.0.19", "",
                 f"{'check':<14}{'tried':>8}{'accepted':>10}{'built':>8}{'rejected':>10}{'disagreements':>15}"
                 f"{'(known)':>9}"]
        for name, tally in self.tallies().items():
            lines.append(f"{name:<14}{tally.tried:>8}{tally.accepted:>10}{tally.built:>8}{tally.rejected:>10}"
                         f"{sum(tally.categories[c] for c in DISAGREEMENTS):>15}{tally.known:>9}")
        lines += ["", f"buildable tagged-union types built and compared for equivalence: "
                  f"{len(self.reached) - len(self.unreached)} of {len(self.reached)}"
                  + (f" (NOT REACHED: {', '.join(self.unreached)})" if self.unreached else "")]
        lines += [f"  {name:<58} {source or 'NOT REACHED'}" for name, source in sorted(self.reached.items())]
        lines += [f"not buildable by design: {', '.join(self.unbuildable) or 'none'}", ""]
        for name, tally in self.tallies().items():
            if tally.categories:
                lines.append(f"{name} outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.categories.items())))
        deferred = [f for t in self.tallies().values() for f in t.findings if f.category == DEFERRED]
        if deferred:
            lines += ["", f"Rejected, but upstream builds it ({len(deferred)} locations; the value is only used "
                      "later — training, the first forward — or never):"]
            lines += [f"  {f.check.split(':')[-1]:<14} {f.path}  ({f.detail[:110]}; from {f.source})"
                      for f in deferred]
        disagreements = [f for t in self.tallies().values() for f in t.disagreements()]
        if disagreements:
            lines += ["", f"Disagreements ({len(disagreements)} distinct):"]
            lines += ["  " + f.render() for f in disagreements]
        lines += ["", f"({self.seconds:.0f} s)"]
        return "\n".join(lines)
