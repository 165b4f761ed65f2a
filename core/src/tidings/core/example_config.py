"""The commented config ``tidings init`` writes: the demo setup, ready to run."""

from __future__ import annotations

__all__ = ["example_config"]

_TEMPLATE = """\
# Tidings configuration. Check it with:  tidings check-config -c tidings.toml
# Any value can be overridden from the environment: TIDINGS_<SECTION>__<KEY>,
# e.g. TIDINGS_SERVER__PORT=9000 or TIDINGS_TRANSPORTS__MAIN__PASSWORD=...
# Any string can be "${{NAME}}" to read a secret from the environment instead.

[server]
host = "127.0.0.1"
port = 8000
# public_url = "https://mail.myshop.com"   # how shops reach the hub (webhook URLs)
# max_body_bytes = 1048576        # larger requests are refused with 413

[storage]
path = "var/tidings.db"           # SQLite, WAL, every accepted event is on disk before the answer

[api]
# Bearer keys for the HTTP API (Authorization: Bearer <key>), 16 characters or more.
keys = ["{api_key}"]

[delivery]
max_attempts = 8                  # then the message is "dead" and stays in the log
backoff_base = 30                 # seconds before the first retry; doubles each time, with jitter
# concurrency = 10               # mails in flight per delivery process
# processes = 1                  # more delivery processes use more cores (big bursts)

# The built-in test inbox: an SMTP server that keeps mail in memory and shows it
# at http://127.0.0.1:8000/inbox. Turn it off in production.
[inbox]
enabled = true
host = "127.0.0.1"
port = 2525

[transports.main]
type = "smtp"
host = "127.0.0.1"
port = 2525                       # the test inbox above
security = "none"                 # "none" | "starttls" | "tls"
# For a real server:
# host = "smtp.example.com"
# port = 587
# security = "starttls"
# username = "shop@example.com"
# password = "${{SMTP_PASSWORD}}"
# timeout = 30

[stores.demo]
platform = "demo"                 # "api" for a store fed only through POST /api/v1/events
name = "Demo Shop"
from = "Demo Shop <shop@demo.example>"
reply_to = "help@demo.example"
admin_email = "Shop Owner <owner@demo.example>"
transport = "main"                # or a list, tried in order: ["main", "backup"]
locale = "en"                     # used when the customer's own locale is unknown
timezone = "Europe/Berlin"
url = "https://demo.example"
# templates_dir = "templates/demo"  # drop <event>.mjml files here to override the defaults

[stores.demo.branding]
colour = "#2f6f5e"
# logo_url = "https://demo.example/logo.png"
address = "Demo Shop GmbH, Hauptstraße 1, 10115 Berlin, Germany"

[stores.demo.options]             # the platform plugin's own settings
seed = true                       # the demo store sends one sample of every event at start-up
"""


def example_config(api_key: str) -> str:
    return _TEMPLATE.format(api_key=api_key)
