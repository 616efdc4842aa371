"""NeMo Services access shared by ``ddc run`` (gateway providers, filesets, secrets, personas) and
``ddc submit`` (jobs): one HTTP client, one place for auth, base URLs, error mapping and redaction.

Sits below engine/ and submission/, which both use it; it imports neither.
"""
