"""Where a webhook may be sent: HTTPS to a public address (no SSRF into Omni's own network).

A URL is checked when it is subscribed and again before each delivery (DNS may have changed since),
and the delivery connects to the very address that was checked. ``OMNI_WEBHOOK_ALLOW_PRIVATE_URLS``
(tests, development) allows http and loopback or private addresses.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from omni.core.errors import InvalidInput


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput.for_field("url", message)


def url_target(url: str) -> Target:
    """The URL's parts and the one address to connect to, or ``InvalidInput`` saying why not."""
    allow_private = settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(_("This is not a valid URL.")) from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise _refuse(_("A webhook URL must start with https://."))
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise _refuse(_("A webhook URL needs a host name and no user name or password."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _refuse(_("The host name %(host)s cannot be resolved.") % {"host": host}) from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise _refuse(_("The host name %(host)s cannot be resolved.") % {"host": host})
    if not allow_private and not all(address_is_public(address) for address in addresses):
        raise _refuse(
            _("%(host)s resolves to a loopback, private, link-local or reserved address; webhooks go to public ones.")
            % {"host": host}
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses[0])
