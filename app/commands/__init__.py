"""Sub-commands of `python -m app`; each module has add_parser() and run()."""
