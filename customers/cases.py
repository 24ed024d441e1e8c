"""Questions and complaints (cases) and the scores customers give (feedback). Each function is one
business action in one transaction; a low score opens a case for the manager of the store concerned.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.errors import InvalidCaseStatus, InvalidScore
from customers.models import Case, CaseMessage, CaseStatus, Customer, Direction, Feedback, InteractionKind
from customers.services import check_active, check_choice, locked_customer, timeline_note
from inventory.models import Location
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_snapshot
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.roles import STORE_MANAGER
from omni.core.services import sequence_next

# --- Cases ------------------------------------------------------------------------------


def case_open(
    *,
    customer: Customer,
    subject: str,
    channel: str,
    body: str = "",
    store: Location | None = None,
    assignee=None,
    actor: Actor = SYSTEM,
) -> Case:
    """Open a question or complaint; its first message is ``body``, when given."""
    subject = subject.strip()
    if not subject:
        raise InvalidInput.for_field("subject", _("A case needs a subject."))
    check_choice(channel, Channel, "channel")
    with transaction.atomic():
        customer = locked_customer(customer)
        case = Case.objects.create(
            number=f"C-{sequence_next('case'):06d}",
            customer=customer,
            subject=subject[:255],
            channel=channel,
            store=store,
            assignee=assignee,
        )
        if body.strip():
            CaseMessage.objects.create(
                case=case, channel=channel, direction=Direction.INBOUND, body=body.strip(), **_author(actor)
            )
        timeline_note(
            customer,
            kind=InteractionKind.CASE_UPDATE,
            channel=channel,
            direction=Direction.INBOUND,
            event="case.opened",
            params={"number": case.number, "subject": case.subject},
            details=body.strip(),
            location=store,
            subject_type="case",
            subject_id=case.number,
            actor=actor,
        )
    return case


def _author(actor: Actor) -> dict:
    return {"author": actor.user, "api_key": actor.api_key}


def case_add_message(
    *, case: Case, body: str, channel: str, direction: str = Direction.INBOUND, actor: Actor = SYSTEM
) -> CaseMessage:
    """Add a message to a case, from whatever channel it came through.

    A message from the customer reopens a case that waited for them or was resolved; a reply to
    the customer puts an open case in "waiting for customer".
    """
    body = body.strip()
    if not body:
        raise InvalidInput.for_field("body", _("A message needs a text."))
    check_choice(channel, Channel, "channel")
    check_choice(direction, Direction, "direction")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        customer = case.customer
        check_active(customer)
        message = CaseMessage.objects.create(
            case=case, channel=channel, direction=direction, body=body, **_author(actor)
        )
        status = case.status
        if direction == Direction.INBOUND and status != CaseStatus.OPEN:
            status = CaseStatus.OPEN
        elif direction == Direction.OUTBOUND and status == CaseStatus.OPEN:
            status = CaseStatus.WAITING
        if status != case.status:
            case.status, case.resolved_at = status, None
            case.save(update_fields=["status", "resolved_at", "updated_at"])
        else:
            case.save(update_fields=["updated_at"])
        timeline_note(
            customer,
            kind=InteractionKind.CASE_UPDATE,
            channel=channel,
            direction=direction,
            event="case.message",
            params={"number": case.number},
            details=body,
            location=case.store,
            subject_type="case",
            subject_id=case.number,
            actor=actor,
        )
    return message


def case_change_status(*, case: Case, status: str, actor: Actor = SYSTEM) -> Case:
    check_choice(status, CaseStatus, "status")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status == status:
            raise InvalidCaseStatus(
                _("Case %(number)s is already %(status)s.")
                % {"number": case.number, "status": case.get_status_display()},
                details={"number": case.number, "status": case.status},
            )
        case.status = status
        case.resolved_at = timezone.now() if status == CaseStatus.RESOLVED else None
        case.save(update_fields=["status", "resolved_at", "updated_at"])
        timeline_note(
            case.customer,
            kind=InteractionKind.CASE_UPDATE,
            event="case.status",
            params={"number": case.number, "status": case.status},
            location=case.store,
            subject_type="case",
            subject_id=case.number,
            actor=actor,
        )
    return case


def case_assign(*, case: Case, assignee, actor: Actor = SYSTEM) -> Case:
    """Give the case to a staff member (or to nobody); giving it to whom it has changes nothing."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=case.pk)
        if case.assignee_id == (assignee.pk if assignee is not None else None):
            return case
        before = audit_snapshot(case, ["assignee"])
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        audit_changes(actor, case, before, {"assignee": assignee}, kind=AuditKind.CASE_ASSIGNED)
    return case


# --- Feedback ---------------------------------------------------------------------------


def store_manager(store: Location | None):
    """The manager of a store: a member of the Store manager role who works there."""
    if store is None:
        return None
    return (
        get_user_model()
        .objects.filter(is_active=True, employee__locations=store, groups__name=STORE_MANAGER)
        .order_by("pk")
        .first()
    )


def feedback_record(
    *,
    customer: Customer,
    score: int,
    channel: str,
    comment: str = "",
    store: Location | None = None,
    order_ref: str = "",
    actor: Actor = SYSTEM,
) -> Feedback:
    """Record a 0–10 score; a low one opens a case for the manager of the store concerned."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidScore(details={"field": "score", "score": repr(score)})
    check_choice(channel, Channel, "channel")
    comment = comment.strip()
    with transaction.atomic():
        customer = locked_customer(customer)
        feedback = Feedback.objects.create(
            customer=customer, score=score, comment=comment, channel=channel, store=store, order_ref=order_ref
        )
        timeline_note(
            customer,
            kind=InteractionKind.FEEDBACK,
            channel=channel,
            direction=Direction.INBOUND,
            event="feedback.received",
            params={"score": score},
            details=comment,
            location=store,
            subject_type="order" if order_ref else "",
            subject_id=order_ref,
            actor=actor,
        )
        if score <= settings.CUSTOMERS_FEEDBACK_CASE_THRESHOLD:
            if order_ref:
                subject = _("Low score %(score)d of 10 for order %(order)s") % {"score": score, "order": order_ref}
            else:
                subject = _("Low score %(score)d of 10") % {"score": score}
            feedback.case = case_open(
                customer=customer,
                subject=subject,
                channel=channel,
                body=comment,
                store=store,
                assignee=store_manager(store),
                actor=actor,
            )
            feedback.save(update_fields=["case", "updated_at"])
    return feedback
