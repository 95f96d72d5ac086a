"""Job orchestration: the page tasks, finalising an item, crash reconcile and the workers.

`pipeline` runs a page through the pure engines of `indexer` against the catalogue,
`queue` is the archive's Huey queue with its tasks, `worker` runs the consumers.
"""
