"""Every SQLAlchemy model, imported here so that Alembic and the app see one MetaData."""

from app.core.base import Base
from app.models.audit import AuditEntry
from app.models.certificate import STATUS_LIST_SIZE, Certificate, CertificateStatus, RevokeReason
from app.models.content import ContentBlob, ContentModule, ModuleVersion
from app.models.country import Country
from app.models.enrolment import ACTIVE_STATUSES, Enrolment, EnrolmentStatus
from app.models.idempotency import IdempotencyRecord
from app.models.job import Job, JobStatus
from app.models.offline import Narration, OfflinePackage
from app.models.participant import ConsentRecord, Participant
from app.models.progress import LessonProgress, ModuleCompletion, ProgressEvent
from app.models.throttle import ThrottleHit
from app.models.user import AccessToken, ActivationCode, Role, User

__all__ = [
    "ACTIVE_STATUSES", "AccessToken", "ActivationCode", "AuditEntry", "Base", "Certificate", "CertificateStatus",
    "ConsentRecord", "ContentBlob", "ContentModule", "Country", "Enrolment", "EnrolmentStatus", "IdempotencyRecord",
    "Job", "JobStatus", "LessonProgress", "ModuleCompletion", "ModuleVersion", "Narration", "OfflinePackage",
    "Participant", "ProgressEvent", "RevokeReason", "Role", "STATUS_LIST_SIZE", "ThrottleHit", "User",
]
