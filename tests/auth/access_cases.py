from tests.access.matrix import EVERYONE, PUBLIC, Case

CASES = [
    Case("GET", "/login", "/login", allow=PUBLIC),
    Case("POST", "/login", "/login", allow=PUBLIC, data={"username": "x", "password": "y"}),
    Case("POST", "/logout", "/logout", allow=EVERYONE),
    Case("GET", "/lang/<code>", "/lang/en", allow=PUBLIC),
    Case("GET", "/api/csrf", "/api/csrf", allow=PUBLIC),
    Case("POST", "/api/login", "/api/login", allow=PUBLIC, json={"username": "x", "password": "y"}),
    Case("POST", "/api/logout", "/api/logout", allow=EVERYONE),
    Case("GET", "/api/me", "/api/me", allow=EVERYONE),
    Case("GET", "/api/openapi.json", "/api/openapi.json", allow=PUBLIC),
]
