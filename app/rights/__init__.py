"""Data-protection rights of the women (ARCO: access, rectification, cancellation, opposition): her data as
JSON, corrections, withdrawing sensitive-data consent, and erasure by an admin."""
