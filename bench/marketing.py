"""Marketing benchmark: a campaign to 100,000 members, messages/s written and delivered.

On PostgreSQL, in-process, on a database whose name contains "bench" (migrated here). Members are
generated with ``manage.py generate_customers`` (a phone and an e-mail each) and given consent to
marketing by SMS with one INSERT ... SELECT; the segment is "consents to marketing by SMS". Each run
removes the campaign messages of earlier runs, so that the weekly cap skips nobody.

1. The campaign is sent by ``omni.marketing.sending.campaign_run`` (batches of
   ``MARKETING_BATCH_SIZE``: list, claim, lock, decide, render, write to the outbox), with the
   delivery queue replaced by a no-op: messages/s written, and the process's resident memory
   sampled through the run (flat memory: the last quarter's peak against the first).
2. One worker delivers ``--deliver`` of them to the storing backend with ``message_deliver``
   (claim, send, record, timeline, one message at a time): messages/s delivered by one worker.
3. One worker delivers the next ``--deliver-batch`` with ``messages_deliver`` (what the
   ``deliver_messages`` task runs: a batch of ``DELIVERY_BATCH`` claimed with FOR UPDATE SKIP
   LOCKED, sent, recorded in a few statements), and its ceiling: the next as many messages
   marked handed over and their timeline rows inserted through psycopg (one UPDATE and an
   ``executemany`` per batch, a transaction each), with no claim and no backend.
4. The ceiling of writing: the same message rows (and one recipient row each) inserted through
   psycopg with ``executemany`` in transactions of the same batch size, then removed.

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/omni_marketing_bench python -m bench.marketing [--members 100000]
"""

import argparse
import os
import platform
import sys
import threading
import time
import uuid
from unittest import mock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("MARKETING_QUIET_START_HOUR", "0")  # the run does not depend on the hour
os.environ.setdefault("MARKETING_QUIET_END_HOUR", "0")

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from customers.management.commands.generate_customers import PHONE_PREFIX  # noqa: E402
from customers.messaging.services import message_deliver, messages_deliver  # noqa: E402
from customers.models import Identity, IdentityKind, Message, Segment, SegmentCondition  # noqa: E402
from omni.marketing.models import Campaign, RecipientStatus  # noqa: E402
from omni.marketing.sending import campaign_run  # noqa: E402
from omni.marketing.services import CampaignData, campaign_create, campaign_launch  # noqa: E402


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def prepare(members: int) -> Segment:
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run: the database must be PostgreSQL with 'bench' in its name (got {name!r}).")
    call_command("migrate", verbosity=0)
    have = Identity.objects.filter(kind=IdentityKind.PHONE, value__startswith=PHONE_PREFIX).count()
    if have < members:
        print(f"Generating {members - have} customers (have {have})...")
        call_command("generate_customers", count=members - have)
    with transaction.atomic(), connection.cursor() as cursor:
        for purpose, channel in (("personal_data", ""), ("marketing", "sms")):
            cursor.execute(
                """
                INSERT INTO customers_consent
                    (customer_id, purpose, channel, granted, changed_at, created_at, updated_at)
                SELECT id, %s, %s, true, now(), now(), now() FROM customers_customer ORDER BY id LIMIT %s
                ON CONFLICT DO NOTHING
                """,
                [purpose, channel, members],
            )
        cursor.execute("DELETE FROM customers_message WHERE cause_type = 'campaign'")
        cursor.execute("DELETE FROM marketing_recipient")
        cursor.execute("DELETE FROM marketing_campaign")
    segment, _created = Segment.objects.get_or_create(name="bench: marketing by SMS")
    segment.conditions.all().delete()
    SegmentCondition.objects.create(segment=segment, condition="customers.marketing_consent", value="sms")
    return segment


def send(segment: Segment) -> tuple[Campaign, float, list[float]]:
    campaign = campaign_create(
        data=CampaignData(
            name="bench",
            segment=segment,
            subject_ru="Скидка",
            subject_en="Sale",
            text_ru="{{ name }}, у вас {{ balance }} баллов. Скидка 10 % до воскресенья.",
            text_en="{{ name }}, you have {{ balance }} points. 10 % off until Sunday.",
            channels=("sms", "email"),
        )
    )
    with mock.patch("omni.marketing.services.enqueue"):
        campaign_launch(campaign=campaign)
    samples: list[float] = []
    done = threading.Event()

    def sample():
        while not done.wait(0.5):
            samples.append(rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with mock.patch("customers.messaging.services._schedule_batch"):
        campaign_run(campaign.pk)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return Campaign.objects.get(pk=campaign.pk), seconds, samples


def deliver(campaign: Campaign, count: int) -> float:
    ids = list(Message.objects.filter(cause_id=str(campaign.pk)).order_by("pk").values_list("pk", flat=True)[:count])
    started = time.perf_counter()
    for pk in ids:
        message_deliver(message_id=pk)
    return len(ids) / (time.perf_counter() - started)


DELIVERY_BATCH = 500


def pending_ids(campaign: Campaign, count: int) -> list[int]:
    pending = Message.objects.filter(cause_id=str(campaign.pk), status="pending").order_by("pk")
    return list(pending.values_list("pk", flat=True)[:count])


def deliver_batched(campaign: Campaign, count: int) -> float:
    ids = pending_ids(campaign, count)
    started = time.perf_counter()
    outcomes = messages_deliver(ids, batch_size=DELIVERY_BATCH)
    seconds = time.perf_counter() - started
    assert outcomes == {"stored": len(ids)}, outcomes
    return len(ids) / seconds


def delivery_ceiling(campaign: Campaign, count: int) -> float:
    """The writes of a delivery through psycopg: messages marked handed over, their timeline rows."""
    ids = pending_ids(campaign, count)
    raw = connection.cursor().connection
    started = time.perf_counter()
    for start in range(0, len(ids), DELIVERY_BATCH):
        chunk = ids[start : start + DELIVERY_BATCH]
        with raw.transaction(), raw.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_message SET status = 'stored', provider_message_id = 'stored:' || uuid,"
                " attempts = attempts + 1, sent_at = now(), updated_at = now() WHERE id = ANY(%s)"
                " RETURNING customer_id, subject, body, cause_type, cause_id",
                [chunk],
            )
            rows = cursor.fetchall()
            cursor.executemany(
                "INSERT INTO customers_interaction (customer_id, channel, kind, direction, summary, event, params,"
                " details, occurred_at, subject_type, subject_id, created_at)"
                " VALUES (%s, 'sms', 'message_sent', 'outbound', %s, 'message.stored', '{}', %s, now(), %s, %s, now())",
                [
                    (customer_id, subject, body, cause_type, cause_id)
                    for customer_id, subject, body, cause_type, cause_id in rows
                ],
            )
    return len(ids) / (time.perf_counter() - started)


def ceiling(campaign: Campaign) -> float:
    """The same rows through psycopg: executemany per batch, one transaction per batch."""
    rows = list(
        Message.objects.filter(cause_id=str(campaign.pk))
        .order_by("pk")
        .values_list("customer_id", "kind", "purpose", "channel", "recipient", "subject", "body", "backend")
    )
    key = f"ceiling:{uuid.uuid4().hex[:8]}"
    batch = settings.MARKETING_BATCH_SIZE
    raw = connection.cursor().connection  # psycopg's connection
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        with raw.transaction(), raw.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO customers_message (uuid, customer_id, kind, purpose, channel, recipient, subject, body,"
                " backend, dedupe_key, cause_type, cause_id, status, attempts, is_sensitive, provider_message_id,"
                " last_error, created_at, updated_at)"
                " VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, %s, 'ceiling', '', 'pending', 0, false,"
                " '', '', now(), now())",
                [(*row, key) for row in chunk],
            )
            cursor.executemany(
                "INSERT INTO marketing_recipient (campaign_id, customer_id, in_control, status, reason, channel,"
                " promo_code, created_at) VALUES (%s, %s, false, 'sent', '', 'sms', '', now())"
                " ON CONFLICT DO NOTHING",
                [(campaign.pk, row[0]) for row in chunk],
            )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_message WHERE dedupe_key = %s", [key])
    return len(rows) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--deliver", type=int, default=2_000)
    parser.add_argument("--deliver-batch", type=int, default=20_000)
    args = parser.parse_args()
    segment = prepare(args.members)
    print(machine())
    print(f"load: {os.getloadavg()}")
    campaign, seconds, samples = send(segment)
    sent = campaign.recipients.filter(status=RecipientStatus.SENT).count()
    quarter = max(1, len(samples) // 4)
    print(
        f"campaign to {campaign.total} members: {sent} messages written in {seconds:.1f} s "
        f"({sent / seconds:.0f} messages/s), batches of {settings.MARKETING_BATCH_SIZE}"
    )
    if samples:
        print(
            f"resident memory: {samples[0]:.0f} MB at the start, peak {max(samples[:quarter]):.0f} MB in the first "
            f"quarter, {max(samples[-quarter:]):.0f} MB in the last"
        )
    delivered = deliver(campaign, args.deliver)
    print(f"one worker delivers to the storing backend, a message at a time: {delivered:.0f} messages/s")
    batched = deliver_batched(campaign, args.deliver_batch)
    print(f"one worker delivers to the storing backend, batches of {DELIVERY_BATCH}: {batched:.0f} messages/s")
    top_delivery = delivery_ceiling(campaign, args.deliver_batch)
    print(f"ceiling, the same writes of a delivery through psycopg: {top_delivery:.0f} messages/s")
    print(
        f"batched delivery / ceiling: {batched / top_delivery:.2f}; batched / one at a time: {batched / delivered:.1f}"
    )
    top = ceiling(campaign)
    print(f"ceiling, the same message and recipient rows through psycopg executemany: {top:.0f} rows/s")
    print(f"campaign writing / ceiling: {sent / seconds / top:.2f}")
    print(f"load at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
