"""ONNX export: trace the network (:mod:`.exporter`), check the file against PyTorch on
rendered pages (:mod:`.check`, :mod:`.samples`), quantize to int8 (:mod:`.quantize`), and
write what the file needs to be used alone into its metadata (:mod:`.metadata`).

``export_onnx(ExportConfig(...))`` (:mod:`.exporter`, :mod:`.config`) is the entry point.
"""
