"""Measuring the detector on the user's own data and machine: quality (:mod:`.evaluation`,
`python -m app evaluate`) and speed, memory and cost (:mod:`.benchmark`, :mod:`.soak`,
`python -m app bench`), with the hardware named (:mod:`.hardware`) and the same tables
printed and saved (:mod:`.tables`). ``bench/`` scripts reuse these pieces."""
