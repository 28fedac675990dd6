"""The WebUI's tabs; each module has ``render()`` (build components) and ``listen()`` (wire events)."""
