from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.commerceml.load import import_commerceml
from inventory.commerceml.parse import CommerceMLError, read_import, read_offers
from inventory.models import Location


class Command(BaseCommand):
    help = (
        "Import a CommerceML 2 (1C) exchange: import.xml (groups, properties, goods) and/or offers.xml "
        "(prices and stock), all or nothing. A file whose name starts with 'offers' is read as offers."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="import.xml and/or offers.xml")
        parser.add_argument("--price-type", help="Ид of the ТипЦены to take (default: the first one listed).")
        parser.add_argument("--location", help="Location code for a Количество given without a Склад.")

    def handle(self, *args, files, price_type, location, **options):
        offers_files = [f for f in files if f.name.lower().startswith("offers")]
        import_files = [f for f in files if f not in offers_files]
        if len(offers_files) > 1 or len(import_files) > 1:
            raise CommandError("Give at most one import file and one offers file.")
        default_location = None
        if location:
            default_location = Location.objects.filter(code=location).first()
            if default_location is None:
                raise CommandError(f"Unknown location {location}.")
        try:
            summary = import_commerceml(
                catalogue=read_import(import_files[0]) if import_files else None,
                package=read_offers(offers_files[0]) if offers_files else None,
                price_type=price_type,
                location=default_location,
            )
        except CommerceMLError as error:
            raise CommandError("Nothing was imported:\n" + "\n".join(error.errors))
        except OSError as error:
            raise CommandError(f"Cannot read the file: {error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.categories} categories, {summary.models} models with {summary.variants} "
                f"variants, {summary.stock_documents} stock counts."
            )
        )
