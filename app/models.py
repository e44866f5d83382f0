"""Import every domain's models so the metadata (migrations, create_all) sees all tables."""
from app.accidents.models import Accident, AccidentEvent, AccidentPhoto, AccidentReport  # noqa: F401
from app.auth.models import LoginAttempt, RoleAssignment, SsoSession, User  # noqa: F401
from app.checklists.models import Checklist, ChecklistItem, ChecklistVersion  # noqa: F401
from app.documents import guards as _document_guards  # noqa: F401  (issued documents never change: guards, triggers)
from app.documents.models import IssuedDocument  # noqa: F401
from app.hazards.models import HazardReport, HazardReportEvent, HazardReportPhoto  # noqa: F401
from app.inspections.models import AnswerPhoto, Inspection, InspectionAnswer, MissedDailyCheck  # noqa: F401
from app.jobs.models import NightlyRun  # noqa: F401
from app.notifications.models import Notification, OutboxEmail  # noqa: F401
from app.org.models import College, Department, Lab, LabClosure, RetiredQrToken  # noqa: F401
from app.photos.models import Photo  # noqa: F401
from app.reports import models as _reports_indexes  # noqa: F401,E402  (indexes the monthly summary needs)
from app.roster.models import RosterEntry, RosterEvent, RosterFinding, RosterLabSetting  # noqa: F401
from app.rounds.models import (  # noqa: F401
    InspectionRound,
    RoundChange,
    RoundLab,
    RoundLateFlag,
    RoundRule,
    RoundRuleChange,
)
from app.tickets import guards as _ticket_guards  # noqa: F401  (tickets are never deleted: guards, create_all triggers)
from app.tickets.models import RectificationTicket, TicketEvent, TicketEventPhoto  # noqa: F401
