"""Omni settings.

Everything a deployment changes is an environment variable read here, and only here.
The README lists each one with its default.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


# --- Core -------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

# Without DEBUG there is no default: the system check omni.E001 stops the server, migrate and
# every other command that runs checks, while makemigrations and the like still work.
SECRET_KEY = os.environ.get("SECRET_KEY") or ("django-insecure-omni-development-only" if DEBUG else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_htmx",
    "omni.core",
    "inventory",
    "customers",
    "loyalty",
    "orders",
    # On top of every app: its admin adds the export buttons to the apps' change lists.
    "omni.reports",
    # Beside the reports: events pushed to integrations; it may import every app, none imports it.
    "omni.webhooks",
    # Beside them: campaigns, which read customers, loyalty and orders; no app imports it.
    "omni.marketing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "omni.core.middleware.RefuseNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "omni.core.middleware.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "omni.urls"
WSGI_APPLICATION = "omni.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# A kept connection is checked before a request uses it, so one the server closed (a restart, an idle
# timeout) is replaced instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # SQLite ignores an index's INCLUDE columns (the dashboard's covering index): still an index.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# A read replica (optional): the dashboard and exports read from it inside
# ``omni.core.db.reporting_reads()``; everything else stays on the primary (docs/deploy.md).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
DATABASE_ROUTERS = ["omni.core.routers.ReportingReplicaRouter"]
# Behind PgBouncer in transaction mode a session is not kept between transactions: no cursor held
# across them (QuerySet.iterator() outside a transaction declares one WITH HOLD), and no statement
# prepared on it (omni.core.db.prepared_cursor; Django already leaves psycopg's automatic
# preparation off, OPTIONS "prepare_threshold"); docs/deploy.md.
DB_TRANSACTION_POOLER = env_bool("DB_TRANSACTION_POOLER", False)
if DB_TRANSACTION_POOLER:
    for _database in DATABASES.values():
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "omni.core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
# One catalogue for the project package: the kernel (omni.core) and the reports (omni.reports).
LOCALE_PATHS = [BASE_DIR / "omni" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (effective when DEBUG is off) ---------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]

# --- REST API ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "omni.core.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["omni.core.api.permissions.HasScope"],
    "DEFAULT_PARSER_CLASSES": [
        "omni.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "omni.core.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "omni.core.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["omni.core.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("API_THROTTLE_RATE", "6000/minute")},
    "EXCEPTION_HANDLER": "omni.core.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# How long a server process trusts an API key it checked: a revoked or rotated key, or one given
# other scopes, keeps its old rights for at most this long in the other processes (0: every request
# looks the key up).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)

# Incremental sync answers changes up to this many seconds ago, so a row whose transaction
# commits a moment after it was written is not skipped (docs/design.md, "Incremental sync").
SYNC_SAFETY_WINDOW_SECONDS = env_int("SYNC_SAFETY_WINDOW_SECONDS", 5)

SPECTACULAR_SETTINGS = {
    "TITLE": "Omni API",
    "DESCRIPTION": (
        "The back office of an omnichannel retailer: catalogue, stock, customers, loyalty and "
        "orders. Integrations authenticate with `Authorization: Api-Key <key>`; each endpoint names "
        "the scope it needs. Every error has the shape "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "omni.core.api.schema.every_response_field_required",
        "omni.webhooks.api.schema.webhook_examples",
    ],
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets named by their model, since several apps have a "channel" or a "kind".
    "ENUM_NAME_OVERRIDES": {
        "CustomerChannelEnum": "omni.core.channels.Channel",
        "ContactChannelEnum": "customers.models.ContactChannel",
        "IdentityKindEnum": "customers.models.IdentityKind",
        "InteractionKindEnum": "customers.models.InteractionKind",
        "LoyaltyCardKindEnum": "loyalty.models.CardKind",
        "LoyaltyCardStatusEnum": "loyalty.models.CardStatus",
        "PointsEntryKindEnum": "loyalty.models.EntryKind",
        "PointsBonusTypeEnum": "loyalty.models.BonusType",
        "OrderChannelEnum": "omni.core.channels.SALES_CHANNEL_CHOICES",
        "OrderFulfilmentEnum": "orders.models.Fulfilment",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "OrderPaymentMethodEnum": "orders.models.PaymentMethod",
        "LocationKindEnum": "inventory.models.LocationKind",
        "TransferStatusEnum": "inventory.models.TransferStatus",
        "PromoKindEnum": "loyalty.models.PromoKind",
        "MessageChannelEnum": "customers.models.MessageChannel",
        "CampaignStatusEnum": "omni.marketing.models.CampaignStatus",
        "ReturnConditionEnum": "orders.models.ReturnCondition",
        "RefundMethodEnum": "orders.models.RefundMethod",
        "RefundStatusEnum": "orders.models.RefundStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Without a broker, tasks run in-process: the default for trying Omni out.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "omni-forget-idempotency-keys": {
        "task": "omni.core.tasks.forget_idempotency_keys",
        "schedule": crontab(hour=4, minute=0),
    },
    "reports-delete-old-exports": {
        "task": "omni.reports.tasks.delete_old_exports",
        "schedule": crontab(hour=4, minute=30),
    },
    # Export jobs started while the broker was down wait as pending; this queues them again.
    "reports-requeue-pending-exports": {
        "task": "omni.reports.tasks.requeue_pending_exports",
        "schedule": crontab(minute="*/5"),
    },
    # A safety net: each change queues its own refresh; this picks up any a lost message left.
    "reports-refresh-summaries": {"task": "omni.reports.tasks.refresh_report_summaries", "schedule": crontab()},
    # Nightly: every customer's RFM scores and segment, from the customers' summaries.
    "reports-compute-rfm": {"task": "omni.reports.tasks.compute_rfm", "schedule": crontab(hour=2, minute=45)},
    "inventory-check-stock-ledger": {
        "task": "inventory.tasks.check_stock_ledger",
        "schedule": crontab(hour=3, minute=15),
    },
    "customers-requeue-pending-messages": {
        "task": "customers.tasks.requeue_pending_messages",
        "schedule": crontab(minute="*/5"),
    },
    "customers-detect-duplicates": {
        "task": "customers.tasks.detect_duplicates",
        "schedule": crontab(hour=2, minute=30),
    },
    # Loyalty: nightly, in this order: expire, warn, birthdays, tiers, then check the ledger.
    "loyalty-expire-points": {
        "task": "loyalty.tasks.expire_points",
        "schedule": crontab(hour=0, minute=20),
    },
    "loyalty-warn-expiring-points": {
        "task": "loyalty.tasks.warn_expiring_points",
        "schedule": crontab(hour=10, minute=0),
    },
    "loyalty-grant-birthday-bonuses": {
        "task": "loyalty.tasks.grant_birthday_bonuses",
        "schedule": crontab(hour=9, minute=0),
    },
    "loyalty-recalculate-tiers": {
        "task": "loyalty.tasks.recalculate_tiers",
        "schedule": crontab(hour=1, minute=10),
    },
    "loyalty-check-points-ledger": {
        "task": "loyalty.tasks.check_points_ledger",
        "schedule": crontab(hour=3, minute=45),
    },
    # Orders: hourly, uncollected click-and-collect orders expire and customers are reminded.
    "orders-expire-uncollected": {"task": "orders.tasks.expire_uncollected_orders", "schedule": crontab(minute=5)},
    "orders-remind-pickup": {"task": "orders.tasks.remind_pickup", "schedule": crontab(minute=35)},
    # Marketing: scheduled campaigns fall due, messages held for the night go out in the morning.
    "marketing-run-due-campaigns": {"task": "omni.marketing.tasks.run_due_campaigns", "schedule": crontab(minute="*")},
    "marketing-send-nps-requests": {
        "task": "omni.marketing.tasks.send_nps_requests",
        "schedule": crontab(minute="*/5"),
    },
    "marketing-remind-abandoned-carts": {
        "task": "omni.marketing.tasks.remind_abandoned_carts",
        "schedule": crontab(minute="*/5"),
    },
    "marketing-grant-campaign-bonuses": {
        "task": "omni.marketing.tasks.grant_campaign_bonuses",
        "schedule": crontab(hour=5, minute=10),
    },
    # Webhooks: deliveries due (a retry, or queued while the broker was down) are queued again.
    "webhooks-requeue-due-deliveries": {"task": "omni.webhooks.tasks.requeue_due_deliveries", "schedule": crontab()},
    # Stock changes left unsent by a broker outage go out with the next sweep.
    "webhooks-stock-events-flush": {"task": "omni.webhooks.stock_events_flush", "schedule": crontab()},
    "webhooks-forget-old-events": {
        "task": "omni.webhooks.tasks.forget_old_events",
        "schedule": crontab(hour=4, minute=20),
    },
}

# --- E-mail -----------------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Omni <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging ----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Business settings ------------------------------------------------------------------

OMNI_CURRENCY = os.environ.get("OMNI_CURRENCY", "RUB")
OMNI_MONEY_QUANTUM = Decimal("0.01")
# How long a POST's Idempotency-Key is remembered (the API promises at least 24 hours).
IDEMPOTENCY_KEY_TTL_HOURS = max(24, env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48))

# Customers: phones written without a country code are read in this region (ISO 3166 code).
CUSTOMERS_PHONE_REGION = os.environ.get("CUSTOMERS_PHONE_REGION", "RU").upper()
# Channels tried, in order, when the customer's preferred channel cannot be used.
CUSTOMERS_MESSAGE_CHANNELS = env_list("CUSTOMERS_MESSAGE_CHANNELS", "push,messenger,email,sms")
# One class per channel, each a customers.messaging.backends.MessageBackend. The storing backend
# keeps the rendered message without delivering it (the admin says so).
CUSTOMERS_EMAIL_BACKEND = os.environ.get("CUSTOMERS_EMAIL_BACKEND", "customers.messaging.backends.DjangoEmailBackend")
CUSTOMERS_SMS_BACKEND = os.environ.get("CUSTOMERS_SMS_BACKEND", "customers.messaging.backends.StoringBackend")
CUSTOMERS_PUSH_BACKEND = os.environ.get("CUSTOMERS_PUSH_BACKEND", "customers.messaging.backends.StoringBackend")
CUSTOMERS_MESSENGER_BACKEND = os.environ.get(
    "CUSTOMERS_MESSENGER_BACKEND", "customers.messaging.backends.StoringBackend"
)
CUSTOMERS_MESSAGE_FROM_EMAIL = os.environ.get("CUSTOMERS_MESSAGE_FROM_EMAIL", "")
# External-id systems that identify a customer in the mobile app (push) and in messengers.
CUSTOMERS_PUSH_SYSTEMS = env_list("CUSTOMERS_PUSH_SYSTEMS", "app")
CUSTOMERS_MESSENGER_SYSTEMS = env_list("CUSTOMERS_MESSENGER_SYSTEMS", "telegram,whatsapp,viber")
CUSTOMERS_MESSAGE_MAX_ATTEMPTS = env_int("CUSTOMERS_MESSAGE_MAX_ATTEMPTS", 5)
# A message still pending after this many minutes is queued again by the periodic task.
CUSTOMERS_MESSAGE_REQUEUE_MINUTES = env_int("CUSTOMERS_MESSAGE_REQUEUE_MINUTES", 5)
# A feedback score at or below this opens a case for the store's manager.
CUSTOMERS_FEEDBACK_CASE_THRESHOLD = env_int("CUSTOMERS_FEEDBACK_CASE_THRESHOLD", 6)

# Marketing: at most this many marketing messages per customer in 7 days, across campaigns.
MARKETING_WEEKLY_CAP = env_int("MARKETING_WEEKLY_CAP", 3)
# Quiet hours in the customer's time zone: from this hour until the end hour, messages wait for morning.
MARKETING_QUIET_START_HOUR = env_int("MARKETING_QUIET_START_HOUR", 21)
MARKETING_QUIET_END_HOUR = env_int("MARKETING_QUIET_END_HOUR", 9)
# Share of a campaign's members held out at random, so that its lift is measured (0–50).
MARKETING_CONTROL_PERCENT = env_int("MARKETING_CONTROL_PERCENT", 10)
# Members per transaction while a campaign is sent.
MARKETING_BATCH_SIZE = env_int("MARKETING_BATCH_SIZE", 1000)
# A cart left this many minutes without a change or an order gets one reminder.
MARKETING_CART_REMINDER_MINUTES = env_int("MARKETING_CART_REMINDER_MINUTES", 60)
# ...and only within this many hours of its last change: a cart refused a reminder for a reason that
# can change (the weekly cap, no consent or address yet, quiet hours) is checked again until then.
MARKETING_CART_REMINDER_WINDOW_HOURS = env_int("MARKETING_CART_REMINDER_WINDOW_HOURS", 24)
# A reply by SMS or messenger that is one of these words (any case) withdraws that channel's marketing
# consent; SMS and messenger messages name the first one in their language next to the unsubscribe link.
MARKETING_STOP_WORDS = env_list("MARKETING_STOP_WORDS", "STOP,СТОП,ОТПИСАТЬСЯ,ОТПИСКА,UNSUBSCRIBE")
# NPS: a completed sale or a handed-over order is followed this many minutes later by one request to rate it,
# at most one per customer in MARKETING_NPS_EVERY_DAYS; an answer is taken for MARKETING_NPS_ANSWER_DAYS after sending.
MARKETING_NPS_DELAY_MINUTES = env_int("MARKETING_NPS_DELAY_MINUTES", 120)
MARKETING_NPS_EVERY_DAYS = env_int("MARKETING_NPS_EVERY_DAYS", 30)
MARKETING_NPS_ANSWER_DAYS = env_int("MARKETING_NPS_ANSWER_DAYS", 14)
# The public address unsubscribe links start with (no trailing slash).
MARKETING_PUBLIC_URL = os.environ.get("MARKETING_PUBLIC_URL", "http://localhost:8000").rstrip("/")

# Return windows in days: goods bought in a store, and distance sales (delivery, click-and-collect).
ORDERS_RETURN_DAYS_STORE = env_int("ORDERS_RETURN_DAYS_STORE", 14)
ORDERS_RETURN_DAYS_DISTANCE = env_int("ORDERS_RETURN_DAYS_DISTANCE", 7)

# Loyalty. The programme (edited in the admin) takes these as its defaults when it is created.
# Earned points stay pending while the goods may still come back: by default the longest window.
LOYALTY_HOLDING_DAYS = env_int("LOYALTY_HOLDING_DAYS", max(ORDERS_RETURN_DAYS_STORE, ORDERS_RETURN_DAYS_DISTANCE))
LOYALTY_EXPIRY_DAYS = env_int("LOYALTY_EXPIRY_DAYS", 365)
LOYALTY_POINT_VALUE = Decimal(os.environ.get("LOYALTY_POINT_VALUE", "1.00"))
LOYALTY_MAX_REDEEM_PERCENT = Decimal(os.environ.get("LOYALTY_MAX_REDEEM_PERCENT", "30"))
LOYALTY_TIER_PERIOD_DAYS = env_int("LOYALTY_TIER_PERIOD_DAYS", 365)
# The earn rate (%) of the base tier of the programme created when none exists yet.
LOYALTY_BASE_EARN_RATE = Decimal(os.environ.get("LOYALTY_BASE_EARN_RATE", "5"))
# Card numbers are EAN-13: this prefix, a sequence number, a check digit (2xx: in-store numbering).
LOYALTY_CARD_PREFIX = os.environ.get("LOYALTY_CARD_PREFIX", "299")
# Customers are told this many days before their points expire.
LOYALTY_EXPIRY_WARNING_DAYS = env_int("LOYALTY_EXPIRY_WARNING_DAYS", 14)
# One-time codes for spending points in a store or by phone.
LOYALTY_OTP_TTL_MINUTES = env_int("LOYALTY_OTP_TTL_MINUTES", 10)
LOYALTY_OTP_MAX_ATTEMPTS = env_int("LOYALTY_OTP_MAX_ATTEMPTS", 5)
LOYALTY_OTP_MAX_PER_HOUR = env_int("LOYALTY_OTP_MAX_PER_HOUR", 5)
# Accounts handled per transaction by the nightly tasks.
LOYALTY_BATCH_SIZE = env_int("LOYALTY_BATCH_SIZE", 5000)

# Orders.
# A click-and-collect order ready for pickup is kept this many days, then expires; the customer
# is reminded this many days before.
ORDERS_PICKUP_DAYS = env_int("ORDERS_PICKUP_DAYS", 3)
ORDERS_PICKUP_REMINDER_DAYS = env_int("ORDERS_PICKUP_REMINDER_DAYS", 1)
# Whether a customer may take a refund as loyalty points instead of money.
ORDERS_REFUND_TO_POINTS = env_bool("ORDERS_REFUND_TO_POINTS", True)

# Webhooks.
# A subscription whose deliveries have failed for this many hours in a row is paused and its owner told.
OMNI_WEBHOOK_PAUSE_AFTER_HOURS = env_int("OMNI_WEBHOOK_PAUSE_AFTER_HOURS", 24)
# Only for tests and development: allow http:// and URLs on loopback and private addresses.
OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("OMNI_WEBHOOK_ALLOW_PRIVATE_URLS", False)
# Sent events and their deliveries are kept this many days (the admin, the deliveries API), then deleted.
OMNI_WEBHOOK_KEEP_DAYS = env_int("OMNI_WEBHOOK_KEEP_DAYS", 30)

# Reports.
# Exports with more rows than this are written to a file by a Celery job instead of downloaded at once.
REPORTS_ASYNC_EXPORT_ROWS = env_int("REPORTS_ASYNC_EXPORT_ROWS", 10000)
# Rows read from the database per chunk while an export job writes its file.
REPORTS_EXPORT_CHUNK_SIZE = env_int("REPORTS_EXPORT_CHUNK_SIZE", 2000)
# Export files older than this many days are deleted by the periodic task.
REPORTS_EXPORT_RETENTION_DAYS = env_int("REPORTS_EXPORT_RETENTION_DAYS", 7)
# A customer without a completed order for this many days counts as churned.
REPORTS_CHURN_DAYS = env_int("REPORTS_CHURN_DAYS", 180)
# RFM scores rank the customers who bought within this many months; those who last bought earlier
# are "lost" (omni.reports.rfm).
REPORTS_RFM_MONTHS = env_int("REPORTS_RFM_MONTHS", 24)
# PostgreSQL memory for the sorts and hashes of one report query (the dashboard's transaction only).
REPORTS_DB_WORK_MEM = os.environ.get("REPORTS_DB_WORK_MEM", "64MB")
# The dashboard is kept this many seconds in the cache per filters and user's stores (0: always computed).
REPORTS_CACHE_SECONDS = env_int("REPORTS_CACHE_SECONDS", 300)
