"""Run reports (JSON, HTML, CSV) and the project's colours."""
