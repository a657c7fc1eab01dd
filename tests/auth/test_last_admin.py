"""The programme always keeps an active administrator: the last one cannot be demoted or deactivated."""

import pytest
from sqlalchemy import select

from app.models import Role, User
from tests.factories import Factory

API = "/api/v1"


def only_admin(factory: Factory, sessions):  # type: ignore[no-untyped-def]
    """An admin who is the only active one (the test database may hold admins of other tests: none here)."""
    admin = factory.admin()
    with sessions() as session, session.begin():
        for user in session.scalars(select(User).where(User.role == Role.ADMIN, User.id != admin.user_id)):
            user.active = False
    return admin


@pytest.mark.parametrize("change", [{"active": False}, {"role": "coordinator", "country": "PE"}],
                         ids=["deactivate", "demote"])
def test_the_last_active_admin_is_kept(client, sessions, factory, change):
    admin = only_admin(factory, sessions)

    response = client.patch(f"{API}/users/{admin.user_id}", json=change, headers=admin.headers)

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "last_admin"
    assert "administradora" in response.json()["detail"]
    with sessions() as session:
        user = session.get_one(User, admin.user_id)
        assert (user.role, user.active) == (Role.ADMIN, True)
    assert client.get(f"{API}/me", headers=admin.headers).status_code == 200  # her token was not revoked


def test_with_another_active_admin_one_may_step_down(client, sessions, factory):
    admin = only_admin(factory, sessions)
    other = factory.admin()

    assert client.patch(f"{API}/users/{other.user_id}", json={"active": False}, headers=admin.headers).status_code \
        == 200
    # now she is the last again
    assert client.patch(f"{API}/users/{admin.user_id}", json={"active": False},
                        headers=admin.headers).status_code == 409
    # an inactive admin's other changes are not blocked
    assert client.patch(f"{API}/users/{other.user_id}", json={"full_name": "Ana"},
                        headers=admin.headers).status_code == 200
