"""What the product writes: per-image result files (:mod:`.outputs`), the resumable batch
runner and its manifest (:mod:`.batch`), the WebUI's run folders and zips (:mod:`.runs`),
annotated pictures (:mod:`.visualize`), the server's pid file (:mod:`.pidfile`), and for
correcting results: editor boxes (:mod:`.corrections`), results as a dataset
(:mod:`.results_dataset`) and the datasets in the allowed folders (:mod:`.dataset_folders`)."""
