"""Report: each row's outcome, the results and failures files, and the run's summary.

This stage never prints: :mod:`importer.report.render` returns text for the CLI.
"""
