"""Everything a user touches: the Gradio WebUI, the command line, jobs and output files."""
