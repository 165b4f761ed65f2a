"""SMTP relays of the common providers, so an owner names a provider and gives a key.

Only relays whose host, port and username convention were confirmed from the
providers' own documentation are listed; any other service works by giving
``host``, ``port``, ``security`` and credentials directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PRESETS", "Preset"]

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class Preset:
    host: str  # may contain {region}
    port: int
    security: Security
    username: str | None  # fixed login; None = the owner's own login; "=password" = the key twice
    region: str | None = None  # the default region, when the host has one
    note: str = ""


PRESETS: dict[str, Preset] = {
    "sendgrid": Preset("smtp.sendgrid.net", 587, "starttls", "apikey",
                       note="password = an API key with Mail Send permission"),
    "mailgun": Preset("smtp.{region}mailgun.org", 587, "starttls", None, region="",
                      note="username = postmaster@your-domain (or an SMTP user); "
                           "region = 'eu' for EU domains"),
    "postmark": Preset("smtp.postmarkapp.com", 587, "starttls", "=password",
                       note="password = the Server API token"),
    "ses": Preset("email-smtp.{region}.amazonaws.com", 587, "starttls", None,
                  region="us-east-1", note="SMTP credentials from the SES console, not IAM keys"),
    "brevo": Preset("smtp-relay.brevo.com", 587, "starttls", None,
                    note="username = your Brevo SMTP login; password = an SMTP key"),
    "sparkpost": Preset("smtp.{region}sparkpostmail.com", 587, "starttls", "SMTP_Injection",
                        region="", note="password = an API key; region = 'eu' for EU accounts"),
    "mailjet": Preset("in-v3.mailjet.com", 587, "starttls", None,
                      note="username = API key; password = secret key"),
    "smtp2go": Preset("mail.smtp2go.com", 2525, "starttls", None,
                      note="an SMTP user created in SMTP2GO"),
    "elasticemail": Preset("smtp.elasticemail.com", 2525, "starttls", None,
                           note="username = your account e-mail; password = an SMTP password"),
    "sendpulse": Preset("smtp-pulse.com", 2525, "starttls", None,
                        note="your SendPulse login and SMTP password"),
}


def region_prefix(preset: Preset, region: str | None) -> str:
    """The host with its region filled in (``eu.`` style prefixes or AWS region names)."""
    chosen = region if region is not None else (preset.region or "")
    if "{region}." in preset.host:
        return preset.host.format(region=chosen)
    return preset.host.format(region=f"{chosen}." if chosen else "")
