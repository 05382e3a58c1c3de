"""The web desk: FastAPI with Jinja2 pages rendered on the server, run by ``sitrep serve`` (Uvicorn).

A thin layer over the same core functions as the CLI (:mod:`sitrep.accounts.service`,
:mod:`sitrep.incidents.service`, :mod:`sitrep.report`): no query and no rule lives here.  The parts:

- :mod:`.app`: :func:`create_app` wires the routes, the security headers and the error pages;
- :mod:`.security`: signed session cookies, CSRF tokens, the Content-Security-Policy;
- :mod:`.auth`: who is asking (:class:`~.auth.Visitor`), the action each route needs, login limits;
- :mod:`.i18n`: every interface string in Chinese and English;
- :mod:`.pages`, :mod:`.archive`: the routes.
"""
