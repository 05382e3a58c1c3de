"""Distribution: mailing a published issue to its readers (``sitrep send``).

Each language's edition is one message to that language's recipient list (``[distribution.recipients]``):
a short body — title, rating, the overview's sentences and narrative, the key-indicator table — as
HTML with a plain-text alternative, and the PDF edition attached.  The full HTML edition is not the
body: it is about 0.5 MB (Gmail cuts a body after about 100 KB), its charts are inline SVG and its
font an ``@font-face`` data URI, which most mail clients strip, and its links are relative to the
archive.  One message per language rather than both in one ``multipart/alternative``: clients show
one alternative and none chooses by language, so half the readers would get the wrong one.

Recipients are envelope recipients only, never in a header (readers are not shown to each other);
``To`` is ``[distribution] to`` or the sender.  Only the issue's public outputs go out, rendered
from the frozen numbers: a week that is not published, or whose issue is withdrawn, is refused.

Every message the relay accepted is recorded in ``reports/sent/<week>.json`` (when, by whom, which
revision and language, its Message-ID, who got it and who was refused).  Sending a revision again to
anyone who already got it is refused unless ``again`` is given.  A dry run writes each message as an
``.eml`` file and sends nothing.

Modules: :mod:`.send` (what goes to whom, and sending it: :func:`~.send.send_issue`), :mod:`.message`
(one edition's message), :mod:`.relay` (the SMTP server and its connection), :mod:`.log` (the send
log), :mod:`.errors`.
"""
