"""Transactions: the case files, their references, their derived state and tracking numbers."""
