from tests.access.matrix import EVERYONE, PUBLIC, Case

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
    # Campus login (issue 25): public; off until configured (404), a callback without its login's state is a 400,
    # a back-channel logout without a SAML LogoutRequest a 400 (it comes from the CAS server, no session).
    Case("GET", "/login/cas", "/login/cas", allow=PUBLIC),
    Case("GET", "/login/cas/callback", "/login/cas/callback?s=x&ticket=ST-1", allow=PUBLIC),
    Case("POST", "/login/cas/callback", "/login/cas/callback", allow=PUBLIC, data={"logoutRequest": "x"}),
    Case("GET", "/login/oidc", "/login/oidc", allow=PUBLIC),
    Case("GET", "/login/oidc/callback", "/login/oidc/callback?code=x&state=y", allow=PUBLIC),
]
