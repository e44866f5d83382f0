"""Door nameplates (art. 24(1)): name, college, room, safety officers and phone, hazard sources with
pictograms, and the lab's QR code as vector SVG.

The pictograms are simple drawings made here in the style of GHS (red diamond) and ISO 7010
(yellow warning triangle) signs — recognisable, not copies of the official artwork.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import segno
from markupsafe import Markup
from sqlalchemy import select

from app.auth.models import Role, RoleAssignment, User
from app.extensions import db
from app.org.labels import HAZARD_LABELS  # one list of hazard names for the whole app  # noqa: F401
from app.org.models import College, Lab
from app.org.risk import nameplate_band

# The QR's module area on paper; 4 cm+ scans from arm's length with any phone.
QR_SIZE_CM = 6.0  # including the 4-module quiet zone: the symbol itself is ~5 cm
QR_ERROR = "q"  # survives a scratched or partly dirty plate (25 %)



# ---- pictograms ---------------------------------------------------------------------------------

def _ghs(symbol: str, title: str) -> str:
    """GHS style: a red-bordered white diamond (square rotated 45°) around a black symbol."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" class="pictogram" role="img">'
        f"<title>{title}</title>"
        f'<path d="M50 3 L97 50 L50 97 L3 50 Z" fill="#fff" stroke="#d50000" stroke-width="7" '
        f'stroke-linejoin="round"/>{symbol}</svg>'
    )


def _iso_warning(symbol: str, title: str) -> str:
    """ISO 7010 warning style: a yellow triangle with a black border around a black symbol."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" class="pictogram" role="img">'
        f"<title>{title}</title>"
        f'<path d="M50 6 L96 88 L4 88 Z" fill="#f9c800" stroke="#000" stroke-width="6" '
        f'stroke-linejoin="round"/>{symbol}</svg>'
    )


def _sector(cx, cy, r0, r1, a0, a1) -> str:
    """An annular sector path (angles in degrees, 0 = up, clockwise)."""
    def pt(r, a):
        rad = math.radians(a - 90)
        return cx + r * math.cos(rad), cy + r * math.sin(rad)

    x0, y0 = pt(r1, a0)
    x1, y1 = pt(r1, a1)
    x2, y2 = pt(r0, a1)
    x3, y3 = pt(r0, a0)
    return (f"M{x0:.2f} {y0:.2f} A{r1} {r1} 0 0 1 {x1:.2f} {y1:.2f} L{x2:.2f} {y2:.2f} "
            f"A{r0} {r0} 0 0 0 {x3:.2f} {y3:.2f} Z")


def _flame() -> str:
    return ('<path d="M50 22 C58 34 66 40 64 54 C70 50 70 44 69 40 C76 50 78 60 72 68 H28 '
            'C22 58 28 46 36 40 C36 48 40 52 44 54 C40 42 44 30 50 22 Z" fill="#000"/>'
            '<rect x="26" y="70" width="48" height="6" fill="#000"/>')


def _skull() -> str:
    return ('<path d="M28 66 L72 80 M72 66 L28 80" stroke="#000" stroke-width="6" stroke-linecap="round"/>'
            '<path d="M50 22 C35 22 30 32 30 42 C30 50 35 54 38 56 V62 H62 V56 C65 54 70 50 70 42 '
            'C70 32 65 22 50 22 Z" fill="#000"/>'
            '<circle cx="42" cy="42" r="5.5" fill="#fff"/><circle cx="58" cy="42" r="5.5" fill="#fff"/>'
            '<path d="M50 49 L47 54 H53 Z" fill="#fff"/>')


def _gas_cylinder() -> str:
    return ('<rect x="24" y="42" width="46" height="18" rx="9" fill="#000" transform="rotate(-20 47 51)"/>'
            '<rect x="68" y="33" width="9" height="8" fill="#000" transform="rotate(-20 47 51)"/>')


def _exploding() -> str:
    return ('<path d="M50 24 L55 40 L70 30 L62 46 L78 50 L62 55 L70 70 L55 61 L50 76 L45 61 L30 70 L38 55 '
            'L22 50 L38 46 L30 30 L45 40 Z" fill="#000"/>')


def _exclamation() -> str:
    return '<rect x="45" y="24" width="10" height="36" rx="3" fill="#000"/><circle cx="50" cy="71" r="6" fill="#000"/>'


def _bolt() -> str:
    return '<path d="M56 30 L40 60 H52 L44 82 L64 50 H52 L60 30 Z" fill="#000"/>'


def _laser() -> str:
    rays = "".join(
        f'<path d="M{54 + 7 * math.cos(math.radians(a)):.1f} {62 + 7 * math.sin(math.radians(a)):.1f} '
        f'L{54 + 14 * math.cos(math.radians(a)):.1f} {62 + 14 * math.sin(math.radians(a)):.1f}" '
        f'stroke="#000" stroke-width="3"/>'
        for a in range(0, 360, 30)
    )
    return f'<circle cx="54" cy="62" r="5" fill="#000"/>{rays}<path d="M18 62 H48" stroke="#000" stroke-width="4"/>'


def _trefoil() -> str:
    blades = "".join(f'<path d="{_sector(50, 62, 7, 20, a - 30, a + 30)}" fill="#000"/>' for a in (0, 120, 240))
    return f'{blades}<circle cx="50" cy="62" r="4.5" fill="#000"/>'


def _biohazard() -> str:
    # Three interlocking rings round a centre: the recognisable silhouette, drawn simply.
    rings = ""
    for a in (0, 120, 240):
        rad = math.radians(a - 90)
        cx, cy = 50 + 10 * math.cos(rad), 62 + 10 * math.sin(rad)
        rings += f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="#000" stroke-width="4"/>'
    return f'{rings}<circle cx="50" cy="62" r="5" fill="none" stroke="#000" stroke-width="3"/>'


def _raise(symbol: str, dy: int = -12) -> str:
    """GHS symbols are drawn in the diamond's centre; shift a triangle symbol's centre."""
    return f'<g transform="translate(0 {dy})">{symbol}</g>'


PICTOGRAMS = {
    # tag -> (style, symbol)
    "hazardous_chemicals": ("ghs", _flame),
    "highly_toxic": ("ghs", _skull),
    "explosive_precursor": ("ghs", _exploding),
    "gas_cylinders": ("ghs", _gas_cylinder),
    "pathogens": ("iso", _biohazard),
    "high_voltage": ("iso", _bolt),
    "lasers": ("iso", _laser),
    "radiation": ("iso", _trefoil),
    "special_equipment": ("iso", lambda: _raise(_exclamation(), 8)),
}


def pictogram(tag: str) -> Markup | None:
    """An inline SVG pictogram for a hazard tag, or None where no standard sign fits."""
    entry = PICTOGRAMS.get(tag)
    if entry is None:
        return None
    style, symbol = entry
    title = str(HAZARD_LABELS.get(tag, tag))
    if style == "ghs":
        return Markup(_ghs(_raise(symbol(), -12 if tag not in ("explosive_precursor",) else 0), title))
    return Markup(_iso_warning(symbol(), title))


# ---- the QR code ------------------------------------------------------------------------------

def qr_url(lab: Lab, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/l/{lab.qr_token}"


def qr_svg(url: str) -> Markup:
    """The QR as one vector path; sized by CSS (QR_SIZE_CM), with the 4-module quiet zone."""
    qr = segno.make(url, error=QR_ERROR, micro=False, boost_error=False)
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass="qr-modules",
                        dark="#000", light="#fff")
    return Markup(svg)


# ---- data for the plates ------------------------------------------------------------------------

@dataclass
class Plate:
    lab: Lab
    college: College
    officers: list[User]
    url: str
    qr: Markup
    hazards: list[tuple[str, str, Markup | None]] = field(default_factory=list)  # (tag, label, pictogram)
    # The risk grade's colour band (MOE 2024 measures: red, orange, yellow, blue), None until graded.
    risk: dict | None = None


def plates_for(labs: list[Lab], base_url: str) -> list[Plate]:
    """Plates for these labs; the officers of all of them come from one query."""
    ids = [lab.id for lab in labs]
    officers: dict[int, list[User]] = {i: [] for i in ids}
    if ids:
        for lab_id, user in db.session.execute(
            select(RoleAssignment.lab_id, User)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id.in_(ids), User.active)
            .order_by(User.name)
        ):
            officers[lab_id].append(user)
    plates = []
    for lab in labs:
        url = qr_url(lab, base_url)
        hazards = [(t, str(HAZARD_LABELS.get(t, t)), pictogram(t)) for t in (lab.hazard_tags or [])]
        plates.append(Plate(lab=lab, college=lab.college, officers=officers[lab.id], url=url, qr=qr_svg(url),
                            hazards=hazards, risk=nameplate_band(lab.risk_level)))
    return plates


def college_labs(college_id: int) -> list[Lab]:
    """A college's active labs, with their college loaded, in code order."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(Lab).options(joinedload(Lab.college))
        .where(Lab.college_id == college_id, Lab.active).order_by(Lab.code)
    ))
