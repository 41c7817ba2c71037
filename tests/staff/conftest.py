"""Role, detail and audit tests run on the database backend (the contract suite covers both)."""
