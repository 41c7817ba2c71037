"""The audit trail of staff searches and views, written in the request's own transaction."""
