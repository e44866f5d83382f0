from tests.access.matrix import EVERYONE, LAB_A_READERS, LAB_B_READERS, PUBLIC, Case

CASES = [
    Case("GET", "/", "/", allow=EVERYONE),
    Case("GET", "/l/<token>", "/l/{token_a}", allow=LAB_A_READERS, note="QR of lab A1"),
    Case("GET", "/l/<token>", "/l/{token_b}", allow=LAB_B_READERS, note="QR of another college's lab"),
    Case("GET", "/labs/<int:lab_id>", "/labs/{lab_a}", allow=LAB_A_READERS),
    Case("GET", "/labs/<int:lab_id>", "/labs/{lab_b}", allow=LAB_B_READERS, note="guessing another college's lab id"),
    Case("GET", "/api/labs", "/api/labs", allow=EVERYONE),
    Case("GET", "/api/labs/<int:lab_id>", "/api/labs/{lab_a}", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>", "/api/labs/{lab_b}", allow=LAB_B_READERS),
    Case("GET", "/api/qr/<token>", "/api/qr/{token_a}", allow=LAB_A_READERS),
    Case("GET", "/api/qr/<token>", "/api/qr/{token_b}", allow=LAB_B_READERS),
]
