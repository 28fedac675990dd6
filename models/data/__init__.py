"""Training data: ICDAR-2015 reader, synthetic renderer, augmentation and DB targets."""
