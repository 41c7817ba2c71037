"""The search index: its definition, document builder, incremental sinks, rebuild and verify.

Import rule: this package may import ``app.models`` (and the pure helpers of ``app``); the
application reaches it only from its indexing tasks, the worker and the CLI.
"""
