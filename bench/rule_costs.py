"""Where a valid config's validation time goes: the compiled structure check, seeing the config with its defaults,
and each cross-field rule (µs, best of several rounds; a rule's objects get an empty scratch each call, as in a
fresh validation). Run it before and after optimising a rule:

    .venv/bin/python bench/rule_costs.py [CONFIG ...]   (default: examples/ and upstream's valid examples)
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
UPSTREAM = REPO.parent / "shared" / "reference" / "upstream-configs"


def best_us(fn: Callable[[], Any], rounds: int = 5, inner: int = 300) -> float:
    """Best per-call time of ``fn`` over ``rounds`` rounds of ``inner`` calls, in µs."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best * 1e6


def costs(config: Any) -> tuple[dict[str, float], dict[str, float]]:
    """({part: µs} for the whole validation and its pieces, {rule id: µs} summed over the rule's sites)."""
    import sat_config
    from sat_config.defaults import seen
    from sat_config.rules import RULES
    from sat_config.validation import default_judging

    judge = default_judging()
    engine = judge.engine
    tag = config.get("model_type")
    ref = engine._model_refs[1][tag] if engine._model_refs else "#"
    structure = engine._compiled(ref, judge.env, False)
    parts = {
        "validate_config": best_us(lambda: sat_config.validate_config(config)),
        "structure": best_us(lambda: structure.is_valid(config)),
        "seen": best_us(lambda: seen(config, engine.root)),
    }
    rules: dict[str, float] = defaultdict(float)
    for view, place in seen(config, engine.root).sites:
        for node in place.checks:
            for rule_id in node.get("x-rules", ()):
                rule = RULES[rule_id]

                def run(rule: Any = rule, view: Any = view) -> None:
                    view.scratch.clear()
                    rule.outcome(view)

                rules[rule_id] += best_us(run)
    parts["rules"] = sum(rules.values())
    return parts, rules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--top", type=int, default=15, help="rules to list (most expensive first)")
    args = parser.parse_args(argv)
    from sat_config import problems_in

    paths = args.configs or [*sorted((REPO / "examples").glob("*.json")), *sorted(UPSTREAM.glob("*.json"))]
    totals: dict[str, float] = defaultdict(float)
    for path in paths:
        config = json.loads(path.read_text(encoding="utf-8"))
        if problems_in(config):
            continue  # only valid configs take the fast path this measures
        parts, rules = costs(config)
        print(f"{path.name:48} " + "  ".join(f"{k} {v:6.1f}" for k, v in parts.items()))
        for rule_id, us in rules.items():
            totals[rule_id] += us
    print(f"\nrules by total µs over these configs ({sum(totals.values()):.1f} in all):")
    for rule_id, us in sorted(totals.items(), key=lambda item: -item[1])[:args.top]:
        print(f"{us:8.2f}  {rule_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
