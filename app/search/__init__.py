"""Transaction search behind one interface, answered by Elasticsearch or by SQL with the same results."""
