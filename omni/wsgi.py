import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

# gunicorn runs no system checks: refuse here rather than fail on the first request.
settings.SECRET_KEY  # noqa: B018
