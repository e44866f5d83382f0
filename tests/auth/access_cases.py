from tests.access.matrix import ADMIN, EVERYONE, PUBLIC, Case

CASES = [
    Case("GET", "/login", "/login", allow=PUBLIC),
    Case("POST", "/login", "/login", allow=PUBLIC, data={"username": "x", "password": "y"}),
    Case("POST", "/logout", "/logout", allow=EVERYONE),
    Case("POST", "/lang/<code>", "/lang/en", allow=PUBLIC, note="this device's language, and the user's"),
    Case("GET", "/api/csrf", "/api/csrf", allow=PUBLIC),
    Case("POST", "/api/login", "/api/login", allow=PUBLIC, json={"username": "x", "password": "y"}),
    Case("POST", "/api/logout", "/api/logout", allow=EVERYONE),
    Case("GET", "/api/me", "/api/me", allow=EVERYONE),
    # One's own password: every signed-in user (a wrong current password is a 400).
    Case("GET", "/account/password", "/account/password", allow=EVERYONE),
    Case("POST", "/account/password", "/account/password", allow=EVERYONE,
         data={"current_password": "x", "new_password": "y" * 8, "confirm_password": "y" * 8}),
    Case("POST", "/api/me/password", "/api/me/password", allow=EVERYONE,
         json={"current_password": "x", "new_password": "y" * 8}),
    # A set-password link is its own credential (a signed user id): no login; a bad link is a 400.
    Case("GET", "/set-password/<token>", "/set-password/not-a-link", allow=PUBLIC),
    Case("POST", "/set-password/<token>", "/set-password/not-a-link", allow=PUBLIC,
         data={"new_password": "y" * 8, "confirm_password": "y" * 8}),
    Case("GET", "/api/openapi.json", "/api/openapi.json", allow=PUBLIC),
    # User administration (art. 9(1)): the school admin only. Targets are college A's lab officer
    # (in scope for college A's leader, still refused) and college B's officer (out of scope).
    Case("GET", "/admin/users", "/admin/users", allow=ADMIN),
    Case("GET", "/admin/users/new", "/admin/users/new", allow=ADMIN),
    Case("POST", "/admin/users/new", "/admin/users/new", allow=ADMIN, data={"username": ""}, note="empty form: 400"),
    Case("GET", "/admin/users/<int:user_id>", "/admin/users/{user_lab_officer}", allow=ADMIN),
    Case("GET", "/admin/users/<int:user_id>", "/admin/users/{user_other_officer}", allow=ADMIN),
    Case("POST", "/admin/users/<int:user_id>", "/admin/users/{user_lab_officer}", allow=ADMIN, data={"name": ""}),
    Case("POST", "/admin/users/<int:user_id>", "/admin/users/{user_other_officer}", allow=ADMIN, data={"name": ""}),
    Case("POST", "/admin/users/<int:user_id>/active", "/admin/users/{user_lab_officer}/active", allow=ADMIN,
         data={"active": "0"}, note="last officer of lab A1: 409"),
    Case("POST", "/admin/users/<int:user_id>/active", "/admin/users/{user_other_officer}/active", allow=ADMIN,
         data={"active": "0"}, note="last officer of lab B1: 409"),
    Case("POST", "/admin/users/<int:user_id>/password", "/admin/users/{user_lab_officer}/password", allow=ADMIN,
         data={"password": "short"}, note="too short: 400"),
    Case("POST", "/admin/users/<int:user_id>/password", "/admin/users/{user_other_officer}/password", allow=ADMIN,
         data={"password": "short"}),
    Case("POST", "/admin/users/<int:user_id>/roles", "/admin/users/{user_lab_officer}/roles", allow=ADMIN, data={}),
    Case("POST", "/admin/users/<int:user_id>/roles", "/admin/users/{user_other_officer}/roles", allow=ADMIN, data={}),
    Case("POST", "/admin/users/<int:user_id>/roles/<int:assignment_id>/revoke",
         "/admin/users/{user_lab_officer}/roles/{role_lab_officer}/revoke", allow=ADMIN, note="last officer: 409"),
    Case("POST", "/admin/users/<int:user_id>/roles/<int:assignment_id>/revoke",
         "/admin/users/{user_other_officer}/roles/{role_other_officer}/revoke", allow=ADMIN, note="last officer: 409"),
]


def extend_world(w):
    w.ids["user_other_officer"] = w.users["other_officer"].id
    w.ids["role_lab_officer"] = w.users["lab_officer"].roles[0].id
    w.ids["role_other_officer"] = w.users["other_officer"].roles[0].id
