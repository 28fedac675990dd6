"""What the product writes: per-image result files (:mod:`.outputs`), the resumable batch
runner and its manifest (:mod:`.batch`), the WebUI's run folders and zips (:mod:`.runs`),
annotated pictures (:mod:`.visualize`) and the server's pid file (:mod:`.pidfile`)."""
