"""Staff search, transaction detail and the call-center lookup."""
