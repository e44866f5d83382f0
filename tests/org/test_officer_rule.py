"""Art. 10(3): every active lab has at least one active safety officer; the services refuse the rest."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth import services as auth
from app.auth.models import Role, RoleAssignment
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.org import services
from app.org.models import Lab
from tests.factories import make_college, make_lab, make_user


def _lab_data(college, **over):
    data = {"code": "CHEM-301", "name": "有机化学实验室", "college": college, "category": "chemistry",
            "hazard_tags": ["hazardous_chemicals"], "phone": "0572-2321301", "building": "化学楼",
            "floor": "3", "room": "301", "active": True}
    data.update(over)
    return data


def test_creating_a_lab_needs_an_officer(app):
    college = make_college()
    with pytest.raises(InvalidInput) as err:
        services.create_lab(_lab_data(college), [])
    assert err.value.details["fields"]["officers"] == "required"  # message cites art. 10(3)
    assert db.session.scalar(select(func.count(Lab.id))) == 0


def test_creating_a_lab_with_an_unknown_officer_is_refused(app):
    college = make_college()
    with pytest.raises(InvalidInput):
        services.create_lab(_lab_data(college), ["nobody"])
    assert db.session.scalar(select(func.count(Lab.id))) == 0


def test_created_lab_has_its_officer(app):
    college = make_college()
    officer = make_user()
    lab = services.create_lab(_lab_data(college), [officer.username])
    assert [u.id for u in auth.lab_officers(lab.id)] == [officer.id]
    assert len(lab.qr_token) >= 22  # >= 128 bits of base64


def test_revoking_the_last_officer_role_is_refused(app):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    with pytest.raises(Conflict) as err:
        auth.revoke_role(officer, officer.roles[0].id)
    assert lab.code in err.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(RoleAssignment.id)).where(RoleAssignment.lab_id == lab.id)) == 1


def test_revoking_one_of_two_officers_is_allowed(app):
    lab = make_lab()
    first = make_user(Role.lab_officer, lab=lab)
    second = make_user(Role.lab_officer, lab=lab)
    auth.revoke_role(first, first.roles[0].id)
    assert [u.id for u in auth.lab_officers(lab.id)] == [second.id]


def test_a_deactivated_second_officer_does_not_count(app):
    lab = make_lab()
    first = make_user(Role.lab_officer, lab=lab)
    second = make_user(Role.lab_officer, lab=lab)
    auth.set_user_active(second, False)
    with pytest.raises(Conflict):
        auth.revoke_role(first, first.roles[0].id)


def test_deactivating_the_last_officer_is_refused(app):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    with pytest.raises(Conflict) as err:
        auth.set_user_active(officer, False)
    assert err.value.details["labs"] == [lab.code]
    db.session.rollback()
    assert db.session.get(type(officer), officer.id).active is True


def test_an_inactive_lab_may_lose_its_officer(app):
    lab = make_lab(active=False)
    officer = make_user(Role.lab_officer, lab=lab)
    auth.set_user_active(officer, False)
    assert auth.lab_officers(lab.id) == []


def test_activating_a_lab_without_officer_is_refused(app):
    lab = make_lab(active=False)
    data = _lab_data(lab.college, code=lab.code, active=True)
    with pytest.raises(Conflict):
        services.update_lab(lab, data)
    db.session.rollback()
    assert db.session.get(Lab, lab.id).active is False


def test_two_officers_revoked_at_once_leave_one(app, monkeypatch):
    """Two admins each remove one of a lab's two officers at the same moment: one is refused (art. 10(3)).
    Each revoke waits, after its count, for the other to have counted too (or for 2 s, when the other is
    held off by the lock): without a lock both would count two officers and both remove theirs."""
    import threading

    from tests.factories import login

    lab = make_lab()
    officers = [make_user(Role.lab_officer, lab=lab) for _ in range(2)]
    admin = make_user(Role.school_admin)
    targets = [(o.id, o.roles[0].id) for o in officers]
    lab_id = lab.id
    db.session.commit()
    real = auth._labs_left_without_officer
    barrier = threading.Barrier(2, timeout=2)

    def counted_then_wait(*args, **kwargs):
        result = real(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other revoke is waiting for this one's lock: go on alone
        return result

    monkeypatch.setattr(auth, "_labs_left_without_officer", counted_then_wait)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login(c, admin)
    codes = [None, None]

    def revoke(n):
        user_id, assignment_id = targets[n]
        codes[n] = clients[n].post(f"/admin/users/{user_id}/roles/{assignment_id}/revoke").status_code

    threads = [threading.Thread(target=revoke, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.remove()
    left = db.session.scalar(select(func.count(RoleAssignment.id)).where(RoleAssignment.lab_id == lab_id,
                                                                         RoleAssignment.role == Role.lab_officer))
    assert left == 1, codes
    assert 409 in codes, codes
