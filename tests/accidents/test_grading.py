"""Art. 33's criteria, each one at each grade: the proposed grade is the gravest grade any criterion meets."""
from __future__ import annotations

import pytest

from app.accidents.grading import Facts, propose
from app.accidents.models import AccidentGrade as G
from app.accidents.models import EnvironmentDamage as E
from app.accidents.models import StabilityHarm as S

LOSS = (1_000_000, 300_000, 50_000)

CASES = [
    # (I) 特别重大
    ("33(1)1 a death", Facts(deaths=1), G.I, "33(1)1"),
    ("33(1)2 three seriously injured", Facts(serious_injuries=3), G.I, "33(1)2"),
    ("33(1)3 a major loss", Facts(property_loss_yuan=1_000_000), G.I, "33(1)3"),
    ("33(1)4 grave harm to stability", Facts(stability=S.grave), G.I, "33(1)4"),
    # (II) 重大
    ("33(2)1 one seriously injured", Facts(serious_injuries=1), G.II, "33(2)1"),
    ("33(2)1 two seriously injured", Facts(serious_injuries=2, light_injuries=4), G.II, "33(2)1"),
    ("33(2)2 a serious loss", Facts(property_loss_yuan=300_000), G.II, "33(2)2"),
    ("33(2)2 just below major", Facts(property_loss_yuan=999_999), G.II, "33(2)2"),
    ("33(2)3 severe environmental damage", Facts(environment=E.severe), G.II, "33(2)3"),
    ("33(2)4 rather serious harm to stability", Facts(stability=S.serious), G.II, "33(2)4"),
    # (III) 较大
    ("33(3)1 light injuries only", Facts(light_injuries=1), G.III, "33(3)1"),
    ("33(3)2 a larger loss", Facts(property_loss_yuan=50_000), G.III, "33(3)2"),
    ("33(3)3 partly repairable damage", Facts(environment=E.partly_repairable), G.III, "33(3)3"),
    ("33(3)4 larger harm to stability", Facts(stability=S.larger), G.III, "33(3)4"),
    # (IV) 一般
    ("33(4)1 nobody hurt, nothing lost", Facts(), G.IV, "33(4)1"),
    ("33(4)2 some loss", Facts(property_loss_yuan=49_999), G.IV, "33(4)2"),
    ("33(4)3 local repairable damage", Facts(environment=E.local_repairable), G.IV, "33(4)3"),
    ("33(4)4 some harm to stability", Facts(stability=S.some), G.IV, "33(4)4"),
]


@pytest.mark.parametrize(("name", "facts", "grade", "criterion"), CASES, ids=[c[0] for c in CASES])
def test_each_criterion_of_each_grade(name, facts, grade, criterion):
    proposal = propose(facts, LOSS)
    assert proposal.grade == grade
    assert criterion in proposal.criteria


def test_every_criterion_is_covered():
    covered = {c[3] for c in CASES}
    assert covered == {f"33({g}){i}" for g in range(1, 5) for i in range(1, 5)}


def test_the_gravest_grade_wins_and_names_all_its_criteria():
    p = propose(Facts(deaths=1, serious_injuries=4, light_injuries=2, property_loss_yuan=2_000_000,
                      environment=E.local_repairable), LOSS)
    assert p.grade == G.I and p.criteria == ("33(1)1", "33(1)2", "33(1)3")
    # A death and a serious injury: I, not II (II 1 is "no death, but 1-2 seriously injured").
    assert propose(Facts(deaths=1, serious_injuries=1), LOSS).grade == G.I


def test_the_loss_floors_are_settings():
    assert propose(Facts(property_loss_yuan=10_000), (100_000, 20_000, 5_000)).grade == G.III
    assert propose(Facts(property_loss_yuan=10_000), LOSS).grade == G.IV
