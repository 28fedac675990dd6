"""The WebUI: a thin shell over ``models`` and ``app.io``.

:mod:`.webui` composes the tabs (:mod:`.tabs`, each with ``render()`` and ``listen()``);
:mod:`.service` holds the served detector, :mod:`.jobs` the one background job,
:mod:`.guards` turns errors and slow requests into readable answers, :mod:`.context` is what
every tab shares, :mod:`.settings` the server's limits, and :mod:`.wording` every bilingual text.
"""
