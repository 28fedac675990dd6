"""Training data: dataset readers (ICDAR 2015/2013, PaddleOCR labels, mixes), the dataset writer, DB target
maps, augmentation."""
