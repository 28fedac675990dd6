"""The synthetic renderer: training images with exact text quadrilaterals.

:mod:`.render` draws image ``i`` of a set (:class:`~.types.SynthConfig`) with one of the
layouts, PIL ones (:mod:`.documents`, :mod:`.scenes` on :mod:`.canvas`) or real layout
engines (:mod:`.html` through Chromium, :mod:`.pdf` through poppler), then degrades it like
a camera or scanner (:mod:`.degrade`); :mod:`.writer` writes a set in the ICDAR-2015 layout.
Text comes from :mod:`.text_sources`, fonts from :mod:`.fonts`, photos from :mod:`.photos`.
"""
