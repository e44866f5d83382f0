"""Door nameplates (art. 24(1)): content, a QR that decodes to the lab's URL, re-issue, batch print."""
from __future__ import annotations

import re

from app.auth.models import Role
from app.extensions import db
from app.org.models import Lab
from app.org.services import reissue_qr_token
from tests.factories import DEFAULT_PASSWORD, login, make_college, make_lab, make_user

from .qr_raster import decode, extract_qr_svg, rasterise


def _setup():
    college = make_college(code="CA", name="化学与材料工程学院")
    lab = make_lab(college, name="有机化学实验室", hazard_tags=["hazardous_chemicals", "highly_toxic", "gas_cylinders",
                                                              "lab_animals"])
    officer = make_user(Role.lab_officer, lab=lab, name="王老师")
    officer.phone = "13800000000"
    leader = make_user(Role.college_leader, college=college)
    db.session.commit()
    return college, lab, leader


def test_nameplate_shows_what_art_24_1_asks_and_its_qr_decodes(app, client):
    college, lab, leader = _setup()
    login(client, leader)
    resp = client.get(f"/labs/{lab.id}/nameplate")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("有机化学实验室", "化学与材料工程学院", lab.room, "王老师", "13800000000", lab.phone):
        assert text in html
    # Hazard sources, with pictograms where a standard sign fits (3 of these 4 tags).
    assert html.count('class="pictogram"') == 3
    plate = re.search(r'<article class="plate.*?</article>', html, re.S).group(0)
    assert "<script" not in plate and "style=" not in plate and not re.search(r"\son\w+=", plate)  # strict CSP
    svg = extract_qr_svg(html)
    assert decode(svg) == [f"http://localhost/l/{lab.qr_token}"]


def test_qr_is_big_enough_on_paper(app, client):
    _, lab, leader = _setup()
    login(client, leader)
    svg = extract_qr_svg(client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True))
    units = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1))
    # The CSS prints the SVG 6 cm wide; modules (without the 4-unit quiet zone each side) >= 4 cm.
    css = open(app.static_folder + "/css/nameplate.css").read()
    assert "svg.qr { width: 6cm; height: 6cm;" in css
    assert 6.0 * (units - 8) / units >= 4.0
    assert rasterise(svg).size == (units * 8, units * 8)


def test_public_base_url_is_used_when_set(app, client):
    _, lab, leader = _setup()
    app.config["PUBLIC_BASE_URL"] = "https://labsafe.example.edu.cn/"
    login(client, leader)
    svg = extract_qr_svg(client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True))
    assert decode(svg) == [f"https://labsafe.example.edu.cn/l/{lab.qr_token}"]


def test_reissuing_the_token_makes_a_new_plate_and_the_old_url_is_gone(app, client):
    _, lab, leader = _setup()
    login(client, leader)
    old_token = lab.qr_token
    old_svg = extract_qr_svg(client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True))
    reissue_qr_token(db.session.get(Lab, lab.id), by_user_id=leader.id)
    new_token = db.session.get(Lab, lab.id).qr_token
    assert new_token != old_token
    new_svg = extract_qr_svg(client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True))
    assert new_svg != old_svg
    assert decode(new_svg) == [f"http://localhost/l/{new_token}"]
    assert client.get(f"/l/{old_token}").status_code == 410
    assert client.get(f"/l/{new_token}").status_code == 302


def test_a_college_prints_all_its_plates_one_per_page(app, client):
    college, lab, leader = _setup()
    second = make_lab(college, name="分析化学实验室")
    make_lab(college, name="停用实验室", active=False)
    other = make_lab(make_college(), name="别的学院实验室")
    login(client, leader)
    html = client.get(f"/colleges/{college.id}/nameplates?size=a4").get_data(as_text=True)
    assert html.count('<article class="plate plate-a4"') == 2
    assert "分析化学实验室" in html and "停用实验室" not in html and "别的学院实验室" not in html
    svgs = re.findall(r'<svg[^>]*class="qr"[^>]*>.*?</svg>', html, re.S)
    assert sorted(decode(s)[0] for s in svgs) == sorted(
        f"http://localhost/l/{t}" for t in (lab.qr_token, second.qr_token))
    assert other.qr_token not in html
    assert client.get(f"/colleges/{college.id}/nameplates?size=a3").status_code == 400


def test_the_print_stylesheet_puts_one_plate_per_page():
    import pathlib

    css = (pathlib.Path(__file__).resolve().parents[2] / "static/css/nameplate.css").read_text()
    assert "@page { size: A5 portrait" in css and "@page plate-a4 { size: A4 portrait" in css
    assert "break-after: page" in css


def test_in_production_no_host_header_changes_a_printed_address(app, tmp_path):
    """A request with Host: evil.example must not print a plate (or show an admin a QR address)
    that sends inspectors elsewhere: production prints LABSAFE_PUBLIC_BASE_URL, which it requires."""
    from app import create_app

    _, lab, leader = _setup()
    admin = make_user(Role.school_admin)
    db.session.commit()
    prod = create_app("production", SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      INSTANCE_PATH=str(tmp_path / "prod"), PUBLIC_BASE_URL="https://labsafe.example.edu.cn",
                      API_RATE_LIMIT="")
    evil = {"base_url": "https://evil.example"}
    public = f"https://labsafe.example.edu.cn/l/{lab.qr_token}"

    def get(client, path):
        with prod.app_context():  # one context per request, as in production
            return client.get(path, **evil).get_data(as_text=True)

    clients = {}
    for user in (leader, admin):
        clients[user.id] = client = prod.test_client()
        with prod.app_context():
            token = client.get("/api/csrf", **evil).get_json()["csrf_token"]
            resp = client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD},
                               headers={"X-CSRFToken": token, "Referer": "https://evil.example/login"}, **evil)
            assert resp.status_code == 200, resp.get_data(as_text=True)
    assert decode(extract_qr_svg(get(clients[leader.id], f"/labs/{lab.id}/nameplate"))) == [public]
    html = get(clients[admin.id], f"/admin/labs/{lab.id}")
    assert f"<code>{public}</code>" in html and "evil.example" not in html
    with prod.app_context():
        db.engine.dispose()


def test_the_lab_code_is_printed_under_the_qr(app, client):
    """The scanner's manual entry asks for the code under the QR: the plate prints the lab code there."""
    _, lab, leader = _setup()
    login(client, leader)
    html = client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True)
    figure = re.search(r'<figure class="plate-qr">.*?</figure>', html, re.S).group(0)
    caption = re.search(r"<figcaption>.*?</figcaption>", figure, re.S).group(0)
    assert figure.index("<svg") < figure.index("<figcaption>")  # under the QR
    printed = re.search(r'<strong class="plate-code">(.*?)</strong>', caption, re.S).group(1)
    assert printed == lab.code


def test_a_graded_lab_has_its_colour_band_and_an_ungraded_none(app, client):
    """The risk grade (MOE 2024 measures) sets the plate's band: red/orange/yellow/blue, level and 红/橙/黄/蓝."""
    from app.org.services import assess_risk

    college, lab, leader = _setup()
    login(client, leader)
    html = client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True)
    assert "plate-risk" not in html  # not graded yet: no band
    answers = {"hazchem_amount": 20, "controlled_chemicals": True, "drug_precursors": False, "special_equipment": 0,
               "gas_cylinders": 2, "biosafety_level": "none", "radiation": "none", "laser_class": "none"}
    assess_risk(lab, answers, leader.id)
    html = client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True)
    band = re.search(r'<p class="plate-risk .*?</p>', html, re.S).group(0)
    assert 'plate-risk-red' in band and 'data-risk-level="I"' in band
    assert "安全风险 Ⅰ 级" in band and "红" in band and "重大风险" in band
    assert "style=" not in band  # strict CSP: the colour comes from nameplate.css
    assert ".plate-risk-red { background: #d50000; }" in open(app.static_folder + "/css/nameplate.css").read()
    english = client.get(f"/labs/{lab.id}/nameplate?lang=en").get_data(as_text=True)
    assert "Risk level Ⅰ" in english and "红" in english and "Major risk" in english
    for level, colour, name in (("II", "orange", "橙"), ("III", "yellow", "黄"), ("IV", "blue", "蓝")):
        lab.risk_level = level
        db.session.commit()
        html = client.get(f"/labs/{lab.id}/nameplate").get_data(as_text=True)
        band = re.search(r'<p class="plate-risk .*?</p>', html, re.S).group(0)
        assert f"plate-risk-{colour}" in band and name in band
