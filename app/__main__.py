"""`python -m app <command>`: serve, detect, train, export, evaluate, dataset, bench, synth."""
import sys

from .cli import main

sys.exit(main())
