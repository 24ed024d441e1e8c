from django.core.management.base import BaseCommand, CommandError

from omni.core.errors import DomainError
from omni.core.scopes import Scope
from omni.core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an integration and print it once, alone, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses the key, for example 'online-shop'.")
        parser.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated scopes. Known: " + ", ".join(Scope.values),
        )

    def handle(self, *args, name, scopes, **options):
        requested = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            api_key, raw_key = api_key_create(name=name, scopes=requested)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created API key '{api_key.name}' with scopes: {', '.join(api_key.scopes)}")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(raw_key)
