"""Mail templates: MJML + Jinja, compiled once per version, rendered per message.

A template is an MJML file with Jinja tags. Each version (keyed by a hash of
its source and partials) is compiled once, by MRML and html2text, into three
Jinja templates (subject, HTML, text), so a message costs only Jinja renders.

Lookup
    ``<store templates_dir>/<name>.mjml`` overrides ``defaults/<name>.mjml``.
    ``<mj-include path="partials/footer.mjml" />`` looks in the store's folder
    first, then in ``defaults/``; paths are relative to those folders and may not
    leave them. Edited store files are picked up on the next render.

Subject
    The ``<mj-title>`` content, rendered as text and folded onto one line.

Template context (a public contract: store overrides rely on these names)
    ``store``      ``id, name, url, locale, timezone, from_email, from_name,
                   reply_to, branding.logo_url, branding.colour, branding.address``
    ``recipient``  ``email, name, locale`` (name and locale may be None)
    ``data``       the event's :class:`~tidings.core.events.EventData` as is
    ``order``      ``data.order`` (None for account mails)
    ``event``      ``type`` (the event type; defaults to the template name), ``id``
    ``locale``     the locale used, e.g. ``"fr_CA"``
    ``subject``    the rendered subject (available in the body, not in the title)
    ``_(msgid, **values)``  translate the English ``msgid``, then fill its
                   ``{named}`` placeholders: ``_("Hi {name},", name=recipient.name)``
    ``money(amount, currency=None)``  locale currency format; the order's
                   currency by default
    ``date(value, format="medium", time=True)``  a date/datetime in the store's
                   time zone; formats are Babel's ``short|medium|long|full`` or a
                   CLDR pattern; ``time=False`` shows only the date
    ``number(n)``  a decimal number with the locale's separators
    ``country(code)``  the localized country name of an ISO code
    ``address_lines(address)``  an :class:`~tidings.core.events.Address` as lines
    …plus every key of the ``extra`` mapping given to :meth:`Renderer.render`
    (plugins add variables that way; they win over the names above).

    An undefined name raises :class:`~tidings.core.errors.TemplateError`; a
    defined ``None`` renders as nothing. HTML is autoescaped, text is not.

Writing templates
    Wording goes through ``_()`` with an English msgid; ``locales/<lang>.json``
    maps each msgid to its translation. Put ``{% %}`` control flow between
    sections inside ``<mj-raw>``. Text hidden with
    ``<span style="display:none;mso-hide:all">: </span>`` is invisible in the HTML
    part but shows in the text part (used for "Subtotal: €10.00").
"""

from tidings.core.templates._i18n import available_locales
from tidings.core.templates._render import RenderedMail, Renderer, template_names

__all__ = ["RenderedMail", "Renderer", "available_locales", "template_names"]
