"""NeMo Services: submit a spec as a Data Designer job, follow it, fetch its dataset.

    preflight   what the service cannot run, with spec positions (``check_submit``)
    versions    what each data-designer version accepts (a table)
    payload     the create-job / preview bodies
    seeds       ``--upload-seeds``: materialise a local or query seed to Parquet, upload it to a fileset
    (the HTTP client, error mapping and redaction are in ddc.nemo, shared with ddc run)
    jobs        submit, wait (backoff, logs, Ctrl-C cancels), download, remote preview
    artifacts   safe extraction of the artifacts archive and the dataset check

Nothing here is imported by ``import ddc``; httpx, duckdb and pyarrow load inside the functions.
"""
