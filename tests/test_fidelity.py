"""The schema agrees with stable-audio-tools: equivalence, soundness and completeness (tests/fidelity/).

`make test` runs the harness on a modest budget: every example and fixture, a few dozen configs drawn from the
schema, every systematic mutation of the examples (upstream is asked about every mutation the validator alone
cannot settle, and about a sample of the rest), and one built config for every type a model can use. `make fuzz`
runs it on a large one (and the positive cases too). Disagreements listed in ``fidelity.known`` (verified, with
the reason) are xfail; any other fails with the offending config.
"""

from __future__ import annotations

import copy

import pytest
from support.files import EXAMPLES, case_config, case_path, load_json

pytest.importorskip("stable_audio_tools")
pytest.importorskip("hypothesis_jsonschema")

from fidelity.checks import AGREE, DISAGREEMENTS  # noqa: E402
from fidelity.draw import Drawer, examples, repair, structural  # noqa: E402
from fidelity.known import KNOWN, known_reason  # noqa: E402
from fidelity.mutations import mutations, typo, wrong_value  # noqa: E402
from fidelity.oracle import upstream_builds  # noqa: E402
from fidelity.run import named_configs, run  # noqa: E402
from fidelity.schema_view import SchemaView  # noqa: E402

from sat_config.validation import find_problems, load_bundled_schema  # noqa: E402

DRAWS = 30
VERIFY_EVERY = 20


@pytest.fixture(scope="module")
def report():
    return run(DRAWS, named=named_configs(cases=False), mutate=[p.stem for p in EXAMPLES], all_tags=False,
               verify_every=VERIFY_EVERY, cover=True)


def judge(tally):
    unknown = tally.unknown()
    assert not unknown, "new disagreements:\n" + "\n".join(f.render() for f in unknown)
    known = sorted({known_reason(f.signature) for f in tally.disagreements()})
    if known:
        pytest.xfail("known disagreements: " + "; ".join(known))


def test_soundness_every_accepted_config_builds(report):
    assert report.soundness.tried >= DRAWS
    assert report.soundness.categories["draws_outside_schema"] == 0  # the composed strategy follows the schema
    assert report.soundness.categories[AGREE] > 0 and report.soundness.built > 0  # not vacuous
    judge(report.soundness)


def test_completeness_every_mutation_is_rejected_where_it_happened(report):
    view = SchemaView(load_bundled_schema())
    config = load_json(next(p for p in EXAMPLES if p.stem == "diffusion_cond_tiny_dit"))
    kinds = {m.kind for m in mutations(view, config, all_tags=False)}
    assert kinds == {"drop_required", "typo", "wrong_tag", "swap_tag", "wrong_type", "out_of_bounds"}
    assert report.completeness.tried > 50 * sum(load_json(p)["model_type"] != "hyperencoder" for p in EXAMPLES)
    judge(report.completeness)


def test_equivalence_sat_config_builds_what_upstream_builds(report):
    assert report.equivalence.tried >= sum(load_json(p)["model_type"] != "hyperencoder" for p in EXAMPLES)
    assert report.reached and not report.unreached  # every type a model can use and upstream can build, compared
    judge(report.equivalence)


def test_the_figures_are_printed_in_one_place(report):
    text = report.render()
    for heading in ("tried", "accepted", "built", "rejected", "disagreements", "soundness", "completeness",
                    "equivalence", "tagged-union types"):
        assert heading in text


# --- the machinery ------------------------------------------------------------------------------------------------


def test_typo_is_one_letter_off_and_new():
    assert typo("latent_dim", {"latent_dim"}) == "laten_dim"
    assert typo("latent_dim", {"latent_dim", "laten_dim"}) == "latentdim"
    assert typo("io", {"io", "i"}) == "iio"
    assert typo("ab", {"ab", "a", "b", "aab", "abb"}) == "abx"


def test_wrong_value_is_outside_the_allowed_types():
    assert wrong_value({"integer"}, 3) == "wrong"
    assert wrong_value({"string"}, "x") == 7
    assert wrong_value({"string", "integer", "number"}, 1) is True
    assert wrong_value({"integer", "string"}, 1) == 1.5
    assert wrong_value(None, "free") == 7  # unconstrained: another type than the value's


def test_mutations_expect_problems_where_the_change_is():
    view = SchemaView(load_bundled_schema())
    config = load_json(next(p for p in EXAMPLES if p.stem == "autoencoder_tiny_vae"))
    by_kind = {}
    for mutation in mutations(view, config):
        by_kind.setdefault(mutation.kind, []).append(mutation)
    drop = next(m for m in by_kind["drop_required"] if m.parts == ("model", "latent_dim"))
    assert "latent_dim" not in drop.config["model"] and drop.expect == "required"
    tag = next(m for m in by_kind["wrong_tag"] if m.parts == ("model", "bottleneck", "type"))
    assert tag.config["model"]["bottleneck"]["type"] not in ("vae", "tanh") and tag.expect == "unknown_tag"
    swaps = {m.config["model"]["bottleneck"]["type"] for m in by_kind["swap_tag"]
             if m.parts == ("model", "bottleneck", "type")}
    assert "vae" not in swaps and {"tanh", "rvq"} <= swaps  # every other bottleneck type
    assert config == load_json(next(p for p in EXAMPLES if p.stem == "autoencoder_tiny_vae"))  # untouched


def test_draws_follow_the_schema_and_repair_only_removes_problems():
    drawer = Drawer(load_bundled_schema())
    fewer = []
    for config in examples(drawer.strategy(), 15):
        assert drawer.valid(config)
        repaired = repair(config)
        before, after = find_problems(config), find_problems(repaired)
        assert drawer.valid(repaired) and structural(after) <= structural(before)
        fewer.append(len(after) < len(before))
    assert len(fewer) == 15 and any(fewer)


def test_repair_fixes_a_latent_width_named_in_the_message():
    config = load_json(next(p for p in EXAMPLES if p.stem == "autoencoder_tiny_vae"))
    config.pop("$schema")
    broken = copy.deepcopy(config)
    broken["model"]["latent_dim"] = 3
    assert [p.kind for p in find_problems(broken)] == ["cross_field"]
    assert find_problems(repair(broken)) == []


def test_upstream_oracle_reports_the_stage_that_failed():
    config = load_json(next(p for p in EXAMPLES if p.stem == "diffusion_cond_tiny_dit"))
    assert upstream_builds(config).ok
    config["training"] = {"learning_rate": 1e-4, "optimizer_configs": {"diffusion": {
        "optimizer": {"type": "AdamW", "config": {"lr": 1e-4}},
        "scheduler": {"type": "InverseLR", "config": {"inv_gamma": 1e6, "power": 0.5}}}}}
    outcome = upstream_builds(config)
    assert not outcome.ok and outcome.stage == "training" and "LRScheduler" in outcome.error


def test_known_disagreements_are_patterns_with_reasons():
    for pattern, reason in KNOWN.items():
        assert reason.strip() and pattern.split()[0] in DISAGREEMENTS


def test_a_checkpoint_that_is_not_here_is_no_verdict():
    """Validation never opens paths (by design), so upstream failing to find a named file is not a disagreement."""
    config = case_config(load_json(case_path("positive", "cond_pretransform_own")))
    entry = next(e for e in config["model"]["conditioning"]["configs"] if e["type"] == "pretransform")
    entry["config"]["pretransform_ckpt_path"] = "/nonexistent/conditioner.ckpt"
    outcome = upstream_builds(config)
    assert not outcome.ok and "FileNotFoundError" in outcome.error and outcome.unchecked
