"""The built-in test inbox: an SMTP capture server with a web view.

A newcomer's demo config delivers here, so real mail can be looked at under
``/inbox`` without any mail account or credentials::

    inbox = Inbox()
    await inbox.start(port=2525)
    app = Starlette(routes=[Mount("/inbox", routes=inbox.routes())])
"""

from tidings.core.inbox.mail import Attachment, CapturedMail
from tidings.core.inbox.service import Inbox

__all__ = ["Attachment", "CapturedMail", "Inbox"]
