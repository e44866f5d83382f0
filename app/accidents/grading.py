"""Art. 33: an accident's grade I-IV proposed from its facts (a pure function; the school confirms).

Each grade is met by any one of its four criteria (凡有下列情形之一者); the gravest grade met wins. The
regulation names losses in words only (重大 / 较为严重 / 较大 / 一定财产或经济损失): the yuan thresholds
are the school's settings (``ACCIDENT_LOSS_YUAN``: the I, II and III floors; any loss below the III
floor is IV's "some loss"). IV criterion 1 (未造成人员伤亡) makes every accident at least grade IV.
"""
from __future__ import annotations

from dataclasses import dataclass

from .models import AccidentGrade, EnvironmentDamage, StabilityHarm

G = AccidentGrade
# The default floors (yuan) of a major (I), serious (II) and larger (III) loss; config overrides them.
DEFAULT_LOSS_YUAN = (1_000_000, 300_000, 50_000)


@dataclass(frozen=True)
class Facts:
    deaths: int = 0
    serious_injuries: int = 0
    light_injuries: int = 0
    property_loss_yuan: int = 0
    environment: EnvironmentDamage = EnvironmentDamage.none
    stability: StabilityHarm = StabilityHarm.none


@dataclass(frozen=True)
class Proposal:
    grade: AccidentGrade
    criteria: tuple[str, ...]  # the criteria met at that grade, e.g. ("33(1)1", "33(1)3")


def _criteria(f: Facts, loss: tuple[int, int, int]) -> dict[AccidentGrade, list[str]]:
    major, serious, larger = loss
    met = {
        G.I: [f.deaths > 0, f.serious_injuries >= 3, f.property_loss_yuan >= major, f.stability == StabilityHarm.grave],
        G.II: [f.deaths == 0 and 1 <= f.serious_injuries <= 2, serious <= f.property_loss_yuan < major,
               f.environment == EnvironmentDamage.severe, f.stability == StabilityHarm.serious],
        G.III: [f.deaths == 0 and f.serious_injuries == 0 and f.light_injuries > 0,
                larger <= f.property_loss_yuan < serious, f.environment == EnvironmentDamage.partly_repairable,
                f.stability == StabilityHarm.larger],
        G.IV: [f.deaths == 0 and f.serious_injuries == 0 and f.light_injuries == 0,
               0 < f.property_loss_yuan < larger, f.environment == EnvironmentDamage.local_repairable,
               f.stability == StabilityHarm.some],
    }
    clause = {G.I: 1, G.II: 2, G.III: 3, G.IV: 4}
    return {g: [f"33({clause[g]}){i + 1}" for i, ok in enumerate(flags) if ok] for g, flags in met.items()}


def propose(facts: Facts, loss_yuan: tuple[int, int, int] = DEFAULT_LOSS_YUAN) -> Proposal:
    """The gravest grade whose criteria the facts meet, with the criteria met there."""
    met = _criteria(facts, loss_yuan)
    for grade in (G.I, G.II, G.III, G.IV):
        if met[grade]:
            return Proposal(grade, tuple(met[grade]))
    return Proposal(G.IV, ())  # pragma: no cover (IV 1 or a lesser criterion always holds)


def loss_floors(config) -> tuple[int, int, int]:
    value = config.get("ACCIDENT_LOSS_YUAN") or DEFAULT_LOSS_YUAN
    return tuple(int(v) for v in value)  # type: ignore[return-value]
