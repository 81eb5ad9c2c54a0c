"""Rules of the torch optimizers and LR schedulers: constraints between or inside parameters that the
constructors enforce and a schema keyword cannot say (``generator/torch_optim_snapshot.py`` probes them)."""

from __future__ import annotations

from .registry import Obj, Outcome, get, is_number, rule

# (class, parameter) pairs whose constructor divides by the parameter: 0 raises ZeroDivisionError.
NOT_ZERO = (("StepLR", "step_size"), ("CosineAnnealingLR", "T_max"), ("CyclicLR", "step_size_up"),
            ("OneCycleLR", "div_factor"), ("OneCycleLR", "final_div_factor"))


def _not_zero(cls: str, key: str) -> None:
    def check(config: Obj) -> Outcome:
        return f"{key} must not be 0: {cls} then raises ZeroDivisionError" if config.get(key) == 0 else None

    check.__doc__ = f"{cls} divides by {key}."
    rule(f"torch.{cls}.{key}.not_0", at=(key,))(check)


for _cls, _key in NOT_ZERO:
    _not_zero(_cls, _key)


@rule("torch.Rprop.etas.0", at=("etas", 0), needs={"etas.0": "number"})
def rprop_eta_minus(config: Obj) -> Outcome:
    """Rprop's decrease factor etas[0] lies in (0, 1)."""
    eta = get(config, "etas.0")
    return None if 0 < eta < 1 else f"etas[0] must be > 0 and < 1 (Rprop raises ValueError), got {eta!r}"


@rule("torch.Rprop.etas.1", at=("etas", 1), needs={"etas.1": "number"})
def rprop_eta_plus(config: Obj) -> Outcome:
    """Rprop's increase factor etas[1] is above 1."""
    eta = get(config, "etas.1")
    return None if eta > 1 else f"etas[1] must be > 1 (Rprop raises ValueError), got {eta!r}"


@rule("torch.SGD.nesterov", at=("nesterov",))
def sgd_nesterov(config: Obj) -> Outcome:
    """Nesterov momentum needs momentum and no dampening."""
    momentum, dampening = config.get("momentum"), config.get("dampening")
    if config.get("nesterov") is not True or (is_number(momentum) and momentum > 0 and not dampening):
        return None
    return "nesterov needs momentum > 0 and dampening 0 (SGD raises ValueError)"


@rule("torch.OneCycleLR.total_steps", at=("total_steps",))
def one_cycle_total_steps(config: Obj) -> Outcome:
    """OneCycleLR needs the number of steps."""
    if config.get("total_steps") is not None or (
            config.get("epochs") is not None and config.get("steps_per_epoch") is not None):
        return None
    return "OneCycleLR needs total_steps, or both epochs and steps_per_epoch (torch raises ValueError)"
