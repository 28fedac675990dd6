"""Realistic pages from HTML templates rendered by headless Chromium, with exact boxes.

Templates: invoice, receipt, table-heavy form, app screen (phone, sometimes desktop),
product label and ID/bank/employee card. Each is filled with :class:`TextSource` text
(zh_CN, en_US or both), styled with CSS drawn from the seed (every system font the
renderer knows, by its fontconfig family name; sizes 8-60 CSS px; colours, borders,
tables, gradients) and rendered by the Debian Chromium (``/usr/bin/chromium``) through
Playwright at a device scale factor of 0.75-2.

Boxes: every word (or CJK character) of every visible text node is measured with
``Range.getClientRects()``; tokens of one block element on one line are joined into one
**text line** box (a gap wider than the line height starts a new box, as in the PIL
renderer), or kept as words with ``granularity="word"``. The page is then screenshotted
twice, with text and with text made transparent, and each box is shrunk to the pixels
that differ (its ink), so boxes are tight like the PIL ones and text hidden under other
elements gets no box. ``photographic()`` degradation is applied by ``render_sample``.

One browser per process serves every page (starting it takes about a second); pages of
the same scale factor share one tab. Deterministic: the same index gives the same
template, text, styles and pixels on a machine with the same fonts and Chromium.

Modules: :mod:`.browser` (Chromium through Playwright), :mod:`.style` (faces, sizes, colours),
:mod:`.templates` (the page templates), :mod:`.layout` (one page -> image and text items).
"""
