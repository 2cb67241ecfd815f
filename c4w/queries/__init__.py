"""Page figures computed in DuckDB straight over the history store's Parquet files, so a page
shows them without pulling a whole range into pandas.

One module per page, beside its pandas twin in ``c4w.metrics`` (the definition). Each function
takes the ``EventStore`` and the sidebar's dates and locations; a test shows that it gives the
same figures as the pandas function on the same events.
"""
