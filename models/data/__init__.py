"""Training data: dataset readers (ICDAR 2015/2013, PaddleOCR labels, mixes), DB target maps, augmentation."""
