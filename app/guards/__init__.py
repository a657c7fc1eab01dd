"""Guards in front of the work a request asks for: throttling per key, and replaying ``Idempotency-Key`` retries.

(Above ``models``, so not in ``core``, which stays below every other package.)
"""
