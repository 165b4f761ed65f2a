"""Each provider's documented wire format, as its fake server checks and answers it.

``read`` pulls the normalized mail back out of a request (raising
:class:`Invalid` where the provider would answer 400/422), so the tests can
compare every provider against the same expectations.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.core.transports.fake_provider import Answer, Seen


class Invalid(Exception):
    """The request breaks the provider's documented shape."""


def need(condition: object, problem: str) -> None:
    if not condition:
        raise Invalid(problem)


def opt(get: Callable[[], Any]) -> Any:
    """An optional field: absent is fine (the reader only insists on required ones)."""
    try:
        return get()
    except (KeyError, IndexError, TypeError):
        return None


def json_body(seen: Seen) -> dict[str, Any]:
    need(seen.content_type == "application/json", f"content type {seen.content_type!r}")
    body = seen.json()
    need(isinstance(body, dict), "body must be an object")
    return dict(body)


def basic(seen: Seen) -> tuple[str, str] | None:
    value = seen.headers.get("authorization", "")
    if not value.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    return user, password


def bearer_is(token: str) -> Callable[[Seen], bool]:
    return lambda seen: seen.headers.get("authorization") == f"Bearer {token}"


def header_is(name: str, *values: str) -> Callable[[Seen], bool]:
    return lambda seen: seen.headers.get(name.lower()) in values


@dataclass(frozen=True)
class Spec:
    kind: str
    credentials: dict[str, Any]
    send_path: str
    check: tuple[str, str]
    authorized: Callable[[Seen], bool]
    read: Callable[[Seen], dict[str, Any]]
    accepted: Callable[[Seen], Answer]
    provider_id: str
    refused: Callable[[str], Answer]
    unauthorized: Answer
    sandboxed: Callable[[Seen], bool] | None = None
    tags: bool = True
    metadata: bool = True

    def handler(self) -> Callable[[Seen], Answer]:
        def handle(seen: Seen) -> Answer:
            if not self.authorized(seen):
                return self.unauthorized
            if (seen.method, seen.path) == self.check != ("POST", self.send_path):
                return 200, {}, {}
            if (seen.method, seen.path) != ("POST", self.send_path):
                return 404, {"message": f"no route {seen.method} {seen.path}"}, {}
            try:
                self.read(seen)
            except (Invalid, KeyError, IndexError, TypeError) as exc:
                return self.refused(str(exc))
            return self.accepted(seen)

        return handle


def _sendgrid(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "subject: The subject is required.")
    content = b["content"]
    need(content[0]["type"] == "text/plain", "content: text/plain must come first")
    parts = {c["type"]: c["value"] for c in content}
    return {"from": b["from"]["email"], "to": b["personalizations"][0]["to"][0]["email"],
            "subject": b["subject"], "text": parts["text/plain"], "html": parts["text/html"],
            "reply_to": opt(lambda: b["reply_to_list"][0]["email"]),
            "headers": b.get("headers", {}), "tags": b.get("categories", []),
            "message_id": opt(lambda: b["custom_args"]["tidings_message_id"])}


SENDGRID = Spec(
    kind="sendgrid", credentials={"api_key": "SG.key"}, send_path="/v3/mail/send",
    check=("GET", "/v3/scopes"), authorized=bearer_is("SG.key"), read=_sendgrid,
    accepted=lambda seen: (200 if "mail_settings" in seen.json() else 202, None,
                           {"X-Message-Id": "sg-abc123"}),
    provider_id="sg-abc123",
    refused=lambda why: (400, {"errors": [{"message": why, "field": None, "help": None}]}, {}),
    unauthorized=(401, {"errors": [{"field": None, "message": "The provided authorization "
                                    "grant is invalid, expired, or revoked"}]}, {}),
    sandboxed=lambda seen: seen.json()["mail_settings"]["sandbox_mode"]["enable"] is True,
)


def _postmark(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(seen.headers.get("accept") == "application/json", "Accept must be application/json")
    need(b.get("Subject"), "Subject is required")
    need(b["MessageStream"] == "outbound", "unknown MessageStream")
    return {"from": b["From"], "to": b["To"], "subject": b["Subject"], "text": b["TextBody"],
            "html": b["HtmlBody"], "reply_to": b.get("ReplyTo"),
            "headers": {h["Name"]: h["Value"] for h in b.get("Headers", [])},
            "tags": [b["Tag"]] if "Tag" in b else [],
            "message_id": opt(lambda: b["Metadata"]["tidings_message_id"])}


POSTMARK = Spec(
    kind="postmark", credentials={"server_token": "pm-token"}, send_path="/email",
    check=("GET", "/server"),
    authorized=header_is("X-Postmark-Server-Token", "pm-token", "POSTMARK_API_TEST"),
    read=_postmark,
    accepted=lambda seen: (200, {"To": seen.json()["To"], "SubmittedAt": "2026-01-01T00:00:00Z",
                                 "MessageID": "pm-0a1b", "ErrorCode": 0, "Message": "OK"}, {}),
    provider_id="pm-0a1b",
    refused=lambda why: (422, {"ErrorCode": 300, "Message": why}, {}),
    unauthorized=(401, {"ErrorCode": 10, "Message": "The Server Token you provided in the "
                        "X-Postmark-Server-Token request header was invalid."}, {}),
    sandboxed=lambda seen: seen.headers["x-postmark-server-token"] == "POSTMARK_API_TEST",
)


def _mailgun(seen: Seen) -> dict[str, Any]:
    need(seen.content_type == "multipart/form-data", f"content type {seen.content_type!r}")
    fields = seen.form()
    one = dict(fields)
    need(one.get("subject"), "'subject' parameter is missing")
    return {"from": one["from"], "to": one["to"], "subject": one["subject"],
            "text": one["text"], "html": one["html"], "reply_to": one.get("h:Reply-To"),
            "headers": {k[2:]: v for k, v in fields if k.startswith("h:") and k != "h:Reply-To"},
            "tags": [v for k, v in fields if k == "o:tag"],
            "message_id": one.get("v:tidings_message_id")}


MAILGUN = Spec(
    kind="mailgun", credentials={"api_key": "mg-key", "domain": "mg.shop.example"},
    send_path="/v3/mg.shop.example/messages", check=("GET", "/v3/domains/mg.shop.example"),
    authorized=lambda seen: basic(seen) == ("api", "mg-key"), read=_mailgun,
    accepted=lambda seen: (200, {"id": "<20260101.1@mg.shop.example>",
                                 "message": "Queued. Thank you."}, {}),
    provider_id="20260101.1@mg.shop.example",
    refused=lambda why: (400, {"message": why}, {}),
    unauthorized=(401, None, {}),  # Mailgun answers a bare "Forbidden"
    sandboxed=lambda seen: ("o:testmode", "yes") in seen.form(),
)


def _resend(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "Missing `subject` field.")
    need(isinstance(b["to"], list), "`to` must be a list")
    tags = b.get("tags", [])
    need(all(t["name"].replace("_", "").isalnum() and t["value"].replace("_", "").isalnum()
             for t in tags), "Tags should only contain ASCII letters, numbers, underscores, or "
         "dashes")
    headers = dict(b.get("headers", {}))
    return {"from": b["from"], "to": b["to"][0], "subject": b["subject"], "text": b["text"],
            "html": b["html"], "reply_to": opt(lambda: b["reply_to"][0]),
            "message_id": headers.pop("X-Tidings-Message-Id", None), "headers": headers,
            "tags": [t["value"] for t in tags],
            "idempotency_key": seen.headers.get("idempotency-key")}


RESEND = Spec(
    kind="resend", credentials={"api_key": "re_key"}, send_path="/emails",
    check=("GET", "/domains"), authorized=bearer_is("re_key"), read=_resend,
    accepted=lambda seen: (200, {"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}, {}),
    provider_id="49a3999c-0ce1-4ea6-ab68-afcd6dc2e794",
    refused=lambda why: (422, {"statusCode": 422, "name": "validation_error",
                               "message": why}, {}),
    unauthorized=(401, {"statusCode": 401, "name": "validation_error",
                        "message": "API key is invalid"}, {}),
)


def _brevo(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "subject is missing")
    headers = dict(b.get("headers", {}))
    headers.pop("X-Sib-Sandbox", None)
    return {"from": b["sender"]["email"], "to": b["to"][0]["email"], "subject": b["subject"],
            "text": b["textContent"], "html": b["htmlContent"],
            "reply_to": opt(lambda: b["replyTo"]["email"]),
            "message_id": headers.pop("X-Mailin-custom", None), "headers": headers,
            "tags": b.get("tags", [])}


BREVO = Spec(
    kind="brevo", credentials={"api_key": "xkeysib-1"}, send_path="/v3/smtp/email",
    check=("GET", "/v3/account"), authorized=header_is("api-key", "xkeysib-1"), read=_brevo,
    accepted=lambda seen: (201, {"messageId": "<202601011200.1@smtp-relay.mailin.fr>"}, {}),
    provider_id="<202601011200.1@smtp-relay.mailin.fr>",
    refused=lambda why: (400, {"code": "missing_parameter", "message": why}, {}),
    unauthorized=(401, {"code": "unauthorized", "message": "Key not found"}, {}),
    sandboxed=lambda seen: seen.json()["headers"]["X-Sib-Sandbox"] == "drop",
)


def _mailjet(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    m = b["Messages"][0]
    need(m.get("Subject"), "Subject is mandatory")
    return {"from": m["From"]["Email"], "to": m["To"][0]["Email"], "subject": m["Subject"],
            "text": m["TextPart"], "html": m["HTMLPart"],
            "reply_to": opt(lambda: m["ReplyTo"]["Email"]), "headers": m.get("Headers", {}),
            "tags": [m["CustomCampaign"]] if "CustomCampaign" in m else [],
            "message_id": m.get("CustomID")}


MAILJET = Spec(
    kind="mailjet", credentials={"api_key": "mj-public", "secret_key": "mj-secret"},
    send_path="/v3.1/send", check=("GET", "/v3/REST/apikey"),
    authorized=lambda seen: basic(seen) == ("mj-public", "mj-secret"), read=_mailjet,
    accepted=lambda seen: (200, {"Messages": [{"Status": "success", "CustomID": "", "To": [{
        "Email": "client@example.com", "MessageUUID": "1ab23cd4", "MessageID": 288230376459,
        "MessageHref": "https://api.mailjet.com/v3/REST/message/288230376459"}]}]}, {}),
    provider_id="288230376459",
    refused=lambda why: (400, {"Messages": [{"Status": "error", "Errors": [{
        "ErrorIdentifier": "f987", "ErrorCode": "mj-0003", "StatusCode": 400,
        "ErrorMessage": why, "ErrorRelatedTo": ["Subject"]}]}]}, {}),
    unauthorized=(401, {"ErrorIdentifier": "0b2f", "StatusCode": 401, "ErrorMessage":
                        "API key authentication/authorization failure. You may be unauthorized "
                        "to access the API or your API key may be expired."}, {}),
    sandboxed=lambda seen: seen.json()["SandboxMode"] is True,
)



def _sparkpost(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    c = b["content"]
    need(c.get("subject"), "subject is a required field")
    return {"from": c["from"]["email"], "to": b["recipients"][0]["address"]["email"],
            "subject": c["subject"], "text": c["text"], "html": c["html"],
            "reply_to": c.get("reply_to"), "headers": c.get("headers", {}),
            "tags": [b["campaign_id"]] if "campaign_id" in b else [],
            "message_id": opt(lambda: b["metadata"]["tidings_message_id"])}


SPARKPOST = Spec(
    kind="sparkpost", credentials={"api_key": "sp-key"}, send_path="/api/v1/transmissions",
    check=("GET", "/api/v1/account"), authorized=header_is("Authorization", "sp-key"),
    read=_sparkpost,
    accepted=lambda seen: (200, {"results": {"total_rejected_recipients": 0,
                                             "total_accepted_recipients": 1,
                                             "id": "11668787484950529"}}, {}),
    provider_id="11668787484950529",
    refused=lambda why: (422, {"errors": [{"message": "required field is missing",
                                           "description": why, "code": "1400"}]}, {}),
    unauthorized=(401, {"errors": [{"message": "Unauthorized."}]}, {}),
    sandboxed=lambda seen: seen.json()["options"]["sandbox"] is True,
)


def _mandrill(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    m = b["message"]
    need(m.get("subject"), "Validation error: {'message':{'subject':'Please enter a value'}}")
    headers = dict(m.get("headers", {}))
    return {"from": m["from_email"], "to": m["to"][0]["email"], "subject": m["subject"],
            "text": m["text"], "html": m["html"], "reply_to": headers.pop("Reply-To", None),
            "headers": headers, "tags": m.get("tags", []),
            "message_id": opt(lambda: m["metadata"]["tidings_message_id"])}


MANDRILL = Spec(
    kind="mandrill", credentials={"api_key": "md-key"}, send_path="/api/1.0/messages/send.json",
    check=("POST", "/api/1.0/users/ping2.json"),
    authorized=lambda seen: seen.json().get("key") == "md-key", read=_mandrill,
    accepted=lambda seen: (200, [{"email": "client@example.com", "status": "sent",
                                  "_id": "abc123abc123abc123abc123", "reject_reason": None}], {}),
    provider_id="abc123abc123abc123abc123",
    refused=lambda why: (500, {"status": "error", "code": -2, "name": "ValidationError",
                               "message": why}, {}),
    unauthorized=(500, {"status": "error", "code": -1, "name": "Invalid_Key",
                        "message": "Invalid API key"}, {}),
)


def _mailersend(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "The subject field is required.")
    return {"from": b["from"]["email"], "to": b["to"][0]["email"], "subject": b["subject"],
            "text": b["text"], "html": b["html"], "reply_to": opt(lambda: b["reply_to"]["email"]),
            "headers": {h["name"]: h["value"] for h in b.get("headers", [])},
            "tags": b.get("tags", []), "message_id": None}


MAILERSEND = Spec(
    kind="mailersend", credentials={"api_key": "mlsn.key"}, send_path="/v1/email",
    check=("GET", "/v1/api-quota"), authorized=bearer_is("mlsn.key"), read=_mailersend,
    accepted=lambda seen: (202, None, {"X-Message-Id": "5e42957d51f1d94a1070a733"}),
    provider_id="5e42957d51f1d94a1070a733",
    refused=lambda why: (422, {"message": why, "errors": {"subject": [why]}}, {}),
    unauthorized=(401, {"message": "Unauthenticated."}, {}), metadata=False,
)


def _postal(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "subject is required")
    return {"from": b["from"], "to": b["to"][0], "subject": b["subject"],
            "text": b["plain_body"], "html": b["html_body"], "reply_to": b.get("reply_to"),
            "headers": b.get("headers", {}), "tags": [b["tag"]] if "tag" in b else [],
            "message_id": None}


def _postal_error(code: str, message: str) -> Answer:
    return 200, {"status": "error", "time": 0.01, "flags": {},
                 "data": {"code": code, "message": message}}, {}


POSTAL = Spec(
    kind="postal", credentials={"api_key": "postal-key"}, send_path="/api/v1/send/message",
    check=("POST", "/api/v1/send/message"), authorized=header_is("X-Server-API-Key", "postal-key"),
    read=_postal,
    accepted=lambda seen: (200, {"status": "success", "time": 0.05, "flags": {}, "data": {
        "message_id": "abc@postal.example",
        "messages": {"client@example.com": {"id": 1503, "token": "Xr6L8ft4"}}}}, {}),
    provider_id="1503",
    refused=lambda why: _postal_error("ValidationError", why),
    unauthorized=_postal_error("InvalidServerAPIKey",
                               "The API token provided in X-Server-API-Key was not valid."),
    metadata=False,
)


def _smtp2go(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    need(b.get("subject"), "'subject' is a required property")
    headers = {h["header"]: h["value"] for h in b.get("custom_headers", [])}
    return {"from": b["sender"], "to": b["to"][0], "subject": b["subject"],
            "text": b["text_body"], "html": b["html_body"],
            "reply_to": headers.pop("Reply-To", None), "headers": headers, "tags": [],
            "message_id": None}


SMTP2GO = Spec(
    kind="smtp2go", credentials={"api_key": "api-1234"}, send_path="/v3/email/send",
    check=("POST", "/v3/stats/email_summary"),
    authorized=header_is("X-Smtp2go-Api-Key", "api-1234"),
    read=_smtp2go,
    accepted=lambda seen: (200, {"request_id": "aa253464-0bd0", "data": {
        "succeeded": 1, "failed": 0, "failures": [], "email_id": "1er8bV-6Tw0Mi-7h"}}, {}),
    provider_id="1er8bV-6Tw0Mi-7h",
    refused=lambda why: (400, {"request_id": "aa2", "data": {
        "error_code": "E_ApiResponseCodes.ENDPOINT_PERMISSION_DENIED", "error": why}}, {}),
    unauthorized=(401, {"request_id": "aa3", "data": {
        "error_code": "E_ApiResponseCodes.API_KEY_INVALID", "error": "Invalid API key"}}, {}),
    tags=False, metadata=False,
)


def _elastic(seen: Seen) -> dict[str, Any]:
    b = json_body(seen)
    c = b["Content"]
    need(c.get("Subject"), "Subject is required")
    bodies = {part["ContentType"]: part["Content"] for part in c["Body"]}
    return {"from": c["From"], "to": b["Recipients"]["To"][0], "subject": c["Subject"],
            "text": bodies["PlainText"], "html": bodies["HTML"], "reply_to": c.get("ReplyTo"),
            "headers": c.get("Headers", {}),
            "tags": [b["Options"]["ChannelName"]] if "Options" in b else [],
            "message_id": c.get("Postback")}


ELASTIC = Spec(
    kind="elasticemail", credentials={"api_key": "ee-key"}, send_path="/v4/emails/transactional",
    check=("GET", "/v4/domains"), authorized=header_is("X-ElasticEmail-ApiKey", "ee-key"),
    read=_elastic,
    accepted=lambda seen: (200, {"TransactionID": "d3d-1", "MessageID": "4jc1kXiXc0"}, {}),
    provider_id="4jc1kXiXc0",
    refused=lambda why: (400, {"Error": why}, {}),
    unauthorized=(401, {"Error": "Access Denied."}, {}),
)

ALL = [SENDGRID, POSTMARK, MAILGUN, RESEND, BREVO, MAILJET, SPARKPOST, MANDRILL, MAILERSEND,
       POSTAL, SMTP2GO, ELASTIC]
